"""``visionkit train`` / ``visionkit eval`` / ``tools/train.py`` end to end on tiny IDX files
(the real data layer, a toy model), and their one-line errors."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
import engine_toys as T  # noqa: E402  (registers toy_cnn)

from visionkit.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path):
    torch.set_num_threads(1)
    T.write_idx(tmp_path / "idx", "train", 24)
    T.write_idx(tmp_path / "idx", "t10k", 12, seed=1)
    cfg = {
        "name": "cli", "out_dir": str(tmp_path / "runs"), "quiet": True,
        "model": {"name": "toy_cnn", "in_ch": 1},
        "data": {"format": "idx", "root": str(tmp_path / "idx"), "val": "test", "classes": ["dark", "light"],
                 "img_size": 8, "resize": "stretch", "batch_size": 4, "workers": 0, "options": {"task": "classification"},
                 "augment": {"hflip": 0.0}},
        "train": {"epochs": 3, "lr": 0.5, "momentum": 0.0, "scheduler": "constant", "device": "cpu", "plots": False},
    }
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _json(out: str) -> dict:
    return json.loads(out[out.index("{"):])


def test_train_then_eval(config, tmp_path, capsys):
    assert main(["train", str(config), "train.epochs=3"]) == 0
    summary = _json(capsys.readouterr().out)
    run = tmp_path / "runs" / "cli"
    assert summary["step"] == 18 and summary["metrics"]["accuracy"] >= 0.9 and summary["run_dir"] == str(run)
    assert main(["eval", str(config), "--weights", str(run / "best.pt"), "--split", "test", "--out", str(tmp_path / "m.json")]) == 0
    printed = _json(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "m.json").read_text())
    assert printed["accuracy"] == summary["best"]
    assert main(["eval", str(config), "--weights", str(run / "best.pt"), "data.classes=[day,night]"]) == 2
    assert "the checkpoint's classes ['dark', 'light'] differ from the data set's ['day', 'night']" in capsys.readouterr().err
    # resume auto: continues from step 18 to 6 more steps
    assert main(["train", str(config), "train.epochs=4", "--resume", "auto"]) == 0
    assert _json(capsys.readouterr().out)["step"] == 24


def test_tools_train_is_the_same_entry(config, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["tools/train.py", str(config), "train.epochs=1", "name=tool"])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(ROOT / "tools" / "train.py"), run_name="__main__")
    assert exit_.value.code == 0
    assert (tmp_path / "runs" / "tool" / "last.pt").is_file()


def test_one_line_errors(config, tmp_path, capsys):
    assert main(["train", str(config), "train.epoks=3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "did you mean 'epochs'" in err and err.count("\n") == 1
    assert main(["train", str(config), "--resume", str(tmp_path / "missing.pt")]) == 2
    assert "missing.pt: no such checkpoint file" in capsys.readouterr().err
    assert main(["train", str(config), "model.nan_after=2", "train.log_every=1"]) == 2
    err = capsys.readouterr().err
    assert "error: loss became NaN/inf" in err and err.count("\n") == 1
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert main(["eval", str(config), "--weights", str(tmp_path / "junk.pt")]) == 2
    assert "junk.pt: corrupt" in capsys.readouterr().err


def test_undefined_metrics_are_null_in_json():
    from visionkit.cli.train import _json

    assert json.loads(_json({"mAP": float("nan"), "per": [1.0, float("inf")]})) == {"mAP": None, "per": [1.0, None]}


def test_gan_measures_fid_with_a_trained_classifier_and_saves_epoch_grids(config, tmp_path, capsys):
    base = yaml.safe_load(config.read_text())
    base["data"]["img_size"] = 32
    clf = dict(base, name="clf", model={"name": "classifier", "network": "lenet5", "num_classes": 2, "in_channels": 1})
    (tmp_path / "clf.yaml").write_text(yaml.safe_dump(clf))
    assert main(["train", str(tmp_path / "clf.yaml"), "train.epochs=1", "train.lr=0.01"]) == 0
    capsys.readouterr()
    weights = tmp_path / "runs" / "clf" / "last.pt"

    gan = dict(base, name="gan", task="generation",
               model={"name": "dcgan", "img_size": 32, "channels": 1, "z_dim": 8, "g_width": 8, "d_width": 8})
    gan["data"] = dict(base["data"], classes=None, options={"task": "generation"})
    gan["train"].update(epochs=2, optimizer="adam", lr=2e-4, betas=[0.5, 0.999], eval_every=1)
    gan["eval"] = {"fid_weights": str(weights)}
    (tmp_path / "gan.yaml").write_text(yaml.safe_dump(gan))
    assert main(["train", str(tmp_path / "gan.yaml")]) == 0
    summary = _json(capsys.readouterr().out)
    assert summary["metrics"]["fid"] > 0 and summary["best"] == min(
        r["val/fid"] for r in map(json.loads, (tmp_path / "runs" / "gan" / "metrics.jsonl").read_text().splitlines()) if "val/fid" in r)
    import cv2

    for epoch in (1, 2):  # the fixed-noise grid after every epoch: 8×8 images of 32 px, 2 px padding
        grid = cv2.imread(str(tmp_path / "runs" / "gan" / "samples" / f"epoch_{epoch:03d}.png"))
        assert grid.shape == (8 * 34 + 2, 8 * 34 + 2, 3)
    ckpt = torch.load(tmp_path / "runs" / "gan" / "last.pt", weights_only=True)
    assert not any(k.startswith("fid_extractor") or k == "grid_z" for k in ckpt["model"])  # the extractor stays outside

    assert main(["eval", str(tmp_path / "gan.yaml"), "--weights", str(tmp_path / "runs" / "gan" / "last.pt")]) == 0
    assert _json(capsys.readouterr().out)["fid"] > 0
    assert main(["eval", str(tmp_path / "gan.yaml"), "--weights", str(tmp_path / "runs" / "gan" / "last.pt"),
                 f"eval.fid_weights={tmp_path / 'nope.pt'}"]) == 2
    assert "nope.pt" in capsys.readouterr().err
