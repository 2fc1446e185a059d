"""``train`` never hides what the readers skipped: a summary before the first step, the full
list in the run folder, and a stop under data.strict."""

from __future__ import annotations

import pytest
import yaml

from tests.data.fixtures import make_voc
from visionkit.cli import main

import tests.helpers.tiny  # noqa: F401  (registers the "tiny_test" backbone)


def _config(tmp_path, strict=False):
    data = tmp_path / "voc"
    make_voc(data)
    xml = data / "Annotations" / "img_002.xml"
    xml.write_text(xml.read_text().replace("<name>bird</name>", "<name>birb</name>"))  # an unknown class
    (data / "Annotations" / "img_003.xml").write_text("<annotation><object>")  # malformed XML
    cfg = {
        "name": "issues", "out_dir": str(tmp_path / "runs"), "quiet": True,
        "model": {"name": "yolov1", "backbone": "tiny_test", "pretrained": False, "grid": 4},
        "data": {"format": "voc", "root": str(data), "train": "train", "val": "", "classes": ["cat", "dog", "bird"],
                 "img_size": 128, "batch_size": 2, "workers": 0, "strict": strict},
        "train": {"epochs": 1, "device": "cpu", "plots": False, "eval_every": 0},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_train_says_what_the_readers_skipped(tmp_path, capsys):
    assert main(["train", str(_config(tmp_path)), "--no-progress"]) == 0
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("data (train):"))
    assert "1 malformed" in line and "1 unknown_class" in line and "img_003.xml" in line
    listed = (tmp_path / "runs" / "issues" / "data_issues.txt").read_text()
    assert "unknown class 'birb'" in listed and "img_003.xml" in listed


def test_strict_data_stops_before_training(tmp_path, capsys):
    assert main(["train", str(_config(tmp_path, strict=True))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and ("img_002.xml" in err or "img_003.xml" in err)
    assert not (tmp_path / "runs" / "issues" / "last.pt").exists()
