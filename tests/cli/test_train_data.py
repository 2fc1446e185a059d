"""``visionkit train --data DIR --model NAME`` end to end on a tiny VOC set in the layout that
annotation tools export (annotations/ + images/, no splits), then ``visionkit eval --weights
... --split test`` with no config, ``visionkit data split`` and the one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

import tests.helpers.tiny  # noqa: F401  (registers the tiny_test backbone)
from tests.data.folders import make_plain_voc
from visionkit.cli import main

# the yolov1 preset's recipe, shrunk so that an epoch takes a fraction of a second
TINY = ["model.backbone=tiny_test", "model.pretrained=false", "model.frozen_stages=0", "model.neck_channels=8",
        "model.hidden=8", "model.grid=4", "data.img_size=64", "data.batch_size=4", "data.workers=0",
        "train.epochs=1", "train.eval_every=1", "train.device=cpu", "train.plots=false", "train.warmup_steps=0",
        "quiet=true"]


def _json(out: str) -> dict:
    return json.loads(out[out.index("{"):])


@pytest.fixture
def photos(tmp_path):
    torch.set_num_threads(1)
    make_plain_voc(tmp_path / "photos", 10, ("fox",))
    return tmp_path / "photos"


def _tree(folder: Path) -> list:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_train_on_a_folder_then_eval_its_test_split_without_config(photos, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = _tree(photos)
    assert main(["train", "--data", str(photos), "--model", "yolov1", "--name", "a", "--seed", "0", *TINY]) == 0
    out = capsys.readouterr()
    summary = _json(out.out)
    run = Path("runs/a").resolve()
    assert Path(summary["run_dir"]).resolve() == run and summary["epoch"] == 1
    assert "is Pascal VOC XML (annotations/ + images/); 1 classes ['fox']; random split (seed 0) of 10 images: " \
           "train 8, val 1, test 1" in out.err
    assert _tree(photos) == before  # nothing written into the data folder
    lists = {k: (run / "splits" / f"{k}.txt").read_text().split() for k in ("train", "val", "test")}
    assert {k: len(v) for k, v in lists.items()} == {"train": 8, "val": 1, "test": 1}
    assert sorted(sum(lists.values(), [])) == [f"images/photo_{i:03d}.jpg" for i in range(10)]
    saved = yaml.safe_load((run / "config.yaml").read_text())
    data = saved["data"]
    assert (data["format"], data["root"], data["classes"]) == ("voc", str(photos.resolve()), ["fox"])
    assert data["options"] == {"annotations": "annotations", "images": "images", "sets": ""}
    assert data["split_files"] == {k: str(run / "splits" / f"{k}.txt") for k in ("train", "val", "test")}
    assert (data["train"], data["val"], data["test"]) == ("train", "val", "test")
    assert saved["model"]["name"] == "yolov1" and saved["model"]["backbone"] == "tiny_test"
    assert saved["train"]["optimizer"] == "adamw"  # the preset's recipe (configs/yolov1_bccd.yaml)
    assert data["img_size"] == 64 and data["augment"]["vflip"] == 0.5

    # eval with no config: the checkpoint's own config, its own test split
    assert main(["eval", "--weights", str(run / "last.pt"), "--split", "test", "--out", str(tmp_path / "m.json")]) == 0
    printed = _json(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "m.json").read_text()) and "mAP" in printed
    # overrides still apply, without a config
    assert main(["eval", "--weights", str(run / "last.pt"), "--split", "val", "data.classes=[owl]"]) == 2
    assert "differ from the data set's ['owl']" in capsys.readouterr().err

    # a second run of the same name goes to runs/a2, with its own split lists
    assert main(["train", "--data", str(photos), "--model", "yolov1_bccd", "--name", "a", *TINY, "train.max_steps=1"]) == 0
    assert Path(_json(capsys.readouterr().out)["run_dir"]).resolve() == Path("runs/a2").resolve()
    assert (Path("runs/a2/splits/test.txt").read_text().split()) == lists["test"]


def test_data_split_then_train_on_those_lists(photos, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = _tree(photos)
    assert main(["data", "split", str(photos), "--val", "0.2", "--test", "0.2", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "train: 6 images" in out and "val: 2 images" in out and f"--splits {tmp_path / 'photos_split'}" in out
    assert _tree(photos) == before and (tmp_path / "photos_split" / "test.txt").is_file()
    assert main(["train", "--data", str(photos), "--model", "yolov1", "--splits", "photos_split", "--name", "b",
                 *TINY, "train.max_steps=1"]) == 0
    err = capsys.readouterr().err
    assert "split files train=" in err
    saved = yaml.safe_load(Path("runs/b/config.yaml").read_text())
    assert saved["data"]["split_files"]["test"] == str((tmp_path / "photos_split" / "test.txt").resolve())
    assert not Path("runs/b/splits").exists()


@pytest.mark.parametrize("args,message", [
    (["configs/yolov1_bccd.yaml", "--data", "{photos}", "--model", "yolov1"], "or --data/--model, not both"),
    (["--data", "{photos}"], "--data DIR and --model NAME go together"),
    (["--model", "yolov1"], "--data DIR and --model NAME go together"),
    (["configs/yolov1_bccd.yaml", "--seed", "3"], "--seed go with --data; with a CONFIG set name=... or data.* keys"),
    ([], "nothing to train: give a CONFIG file, or --data DIR --model NAME"),
    (["--data", "{photos}", "--model", "yolo1"], "unknown model 'yolo1'; did you mean 'yolov1'?"),
])
def test_one_line_errors(photos, args, message, capsys):
    assert main(["train", *[a.format(photos=photos) for a in args]]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_eval_needs_a_config_when_the_checkpoint_has_none(tmp_path, capsys):
    from visionkit.engine.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "bare.pt", {"model": {}, "config": {}, "task": "detection"})
    assert main(["eval", "--weights", str(tmp_path / "bare.pt")]) == 2
    assert "holds no config: pass the CONFIG it was trained with" in capsys.readouterr().err


def test_data_check_and_convert_read_the_annotation_tool_layout(photos, tmp_path, capsys):
    assert main(["data", "check", str(photos)]) == 0
    out = capsys.readouterr().out
    assert f"data set {photos} (format voc)" in out and "split all: 10 items, 10 boxes, 0 images without labels" in out
    assert main(["data", "convert", str(photos), str(tmp_path / "y"), "--to", "yolo"]) == 0
    assert "all: 10 images written" in capsys.readouterr().out
    assert len(list((tmp_path / "y" / "labels" / "all").glob("*.txt"))) == 10
