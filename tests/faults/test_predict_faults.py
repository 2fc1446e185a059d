"""``visionkit detect`` under bad options and with a ground truth's ids: one-line refusals,
no folder left behind, and predictions that ``score`` matches whatever the ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from visionkit.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
IMAGES = [SAMPLES / "BloodImage_00007.jpg", SAMPLES / "BloodImage_00011.jpg"]


@pytest.mark.parametrize("args, message", [
    (["--conf", "2"], "--conf"), (["--iou", "5"], "--iou"), (["--max-det", "-1"], "--max-det"),
    (["--batch", "0"], "--batch"), (["--imgsz", "-1"], "--imgsz"), (["--classes", "99"], "class id 99 is not one of 1..3"),
])
def test_out_of_range_options_are_refused(tmp_path, capsys, args, message):
    code = main(["detect", str(IMAGES[0]), "--out", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # a refused run leaves no folder


def test_a_refused_segment_run_leaves_no_folder(tmp_path, capsys):
    assert main(["segment", str(IMAGES[0]), "--augment", "--out", str(tmp_path / "seg")]) == 2
    assert not (tmp_path / "seg").exists()


def test_predictions_carry_class_names_and_the_model_says_what_it_knows(tmp_path, capsys):
    assert main(["detect", *map(str, IMAGES), "--out", str(tmp_path), "--no-save"]) == 0
    preds = json.loads((tmp_path / "predictions.json").read_text())
    assert preds and {p["category_name"] for p in preds} <= {"RBC", "WBC", "Platelets"}
    assert all(["RBC", "WBC", "Platelets"][p["category_id"] - 1] == p["category_name"] for p in preds)
    out, err = capsys.readouterr()
    assert "model default-detector: detection, 3 classes (RBC, WBC, Platelets)" in err
    assert "data/samples/BloodImage_00007.jpg" in out  # the path as the user knows it, not cut to its last 60 characters


def test_gt_gives_predictions_the_ground_truths_ids(tmp_path, capsys):
    gt = {"images": [{"id": 700, "file_name": "BloodImage_00007.jpg"}, {"id": 1100, "file_name": "sub/BloodImage_00011.jpg"}],
          "categories": [{"id": 9, "name": "Platelets"}, {"id": 3, "name": "RBC"}, {"id": 5, "name": "WBC"}],
          "annotations": []}
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    extra = SAMPLES / "BloodImage_00015.jpg"  # not in the GT: listed, the others still written
    code = main(["detect", *map(str, IMAGES), str(extra), "--gt", str(tmp_path / "gt.json"), "--out", str(tmp_path / "o"), "--no-save"])
    assert code == 1 and "BloodImage_00015.jpg: matches no image of" in capsys.readouterr().err
    preds = json.loads((tmp_path / "o" / "predictions.json").read_text())
    assert {p["image_id"] for p in preds} == {700, 1100}
    assert all({"Platelets": 9, "RBC": 3, "WBC": 5}[p["category_name"]] == p["category_id"] for p in preds)


def test_gt_without_the_models_classes_is_refused(tmp_path, capsys):
    (tmp_path / "gt.json").write_text(json.dumps({"images": [], "annotations": [], "categories": [{"id": 1, "name": "cat"}]}))
    assert main(["detect", str(IMAGES[0]), "--gt", str(tmp_path / "gt.json"), "--out", str(tmp_path / "o")]) == 2
    assert "the model's classes ['RBC', 'WBC', 'Platelets'] are not categories" in capsys.readouterr().err
