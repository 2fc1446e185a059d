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
