"""Predictions on disk: round trip, and one clear DataError line for each kind of bad file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from visionkit.errors import DataError
from visionkit.metrics.results import coco_to_arrays, load_coco_gt, load_results, save_results, to_coco_results


def _gt(tmp_path, **over):
    d = {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 5, "name": "cat"}, {"id": 9, "name": "dog"}],
         "annotations": [{"image_id": 1, "category_id": 9, "bbox": [10, 20, 30, 40]},
                         {"image_id": 2, "category_id": 5, "bbox": [0, 0, 5, 5], "iscrowd": 1},
                         {"image_id": 2, "category_id": 5, "bbox": [50, 50, 5, 5], "difficult": True}]}
    d.update(over)
    p = tmp_path / "gt.json"
    p.write_text(json.dumps(d))
    return p


def test_to_coco_results_round_trip(tmp_path):
    preds = [{"boxes": torch.tensor([[10.0, 20, 40, 60]]), "labels": torch.tensor([2]), "scores": torch.tensor([0.5])},
             {"boxes": np.zeros((0, 4)), "labels": np.zeros(0, int), "scores": np.zeros(0)}]
    res = to_coco_results(preds, [7, 8], cat_ids=[5, 9], file_names=["a.jpg", "b.jpg"])
    assert res == [{"image_id": 7, "category_id": 9, "bbox": [10.0, 20.0, 30.0, 40.0], "score": 0.5, "file_name": "a.jpg"}]
    save_results(tmp_path / "out" / "res.json", res)
    assert load_results(tmp_path / "out" / "res.json") == res
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["res.json"]  # no temp file left


def test_load_coco_gt_fills_defaults_and_arrays(tmp_path):
    gt = load_coco_gt(_gt(tmp_path))
    a = gt["annotations"][0]
    assert a["area"] == 1200 and a["iscrowd"] == 0 and a["id"] == 1
    res = [{"image_id": 1, "category_id": 9, "bbox": [10, 20, 30, 40], "score": 0.9}]
    gts, preds, classes, cat_ids = coco_to_arrays(gt, res)
    assert classes == ["cat", "dog"] and cat_ids == [5, 9]
    np.testing.assert_array_equal(gts[0]["boxes"], [[10, 20, 40, 60]])  # [x, y, w, h] -> corners
    np.testing.assert_array_equal(gts[0]["labels"], [2])
    np.testing.assert_array_equal(gts[1]["difficult"], [True, True])  # iscrowd and difficult
    assert len(preds[1]["boxes"]) == 0 and preds[0]["scores"].tolist() == [0.9]


@pytest.mark.parametrize(
    "content, message",
    [
        ('[{"image_id": 1,\n "bbox": [1, 2, 3]', "not valid JSON at line 2, column"),
        ('{"images": []}', "is a JSON list"),
        ('[{"image_id": 1, "category_id": 5, "bbox": [1, 2, 3], "score": 1}]', "item 0: bbox must be 4 numbers"),
        ('[{"image_id": 1, "category_id": 5, "bbox": [1, 2, 3, 4]}]', "item 0: missing 'score'"),
        ('[{"image_id": 1, "category_id": 5, "bbox": [1, 2, -3, 4], "score": 1}]', "negative width"),
        ('[{"image_id": 3, "category_id": 5, "bbox": [1, 2, 3, 4], "score": 1}]', "unknown image_id 3"),
        ('[{"image_id": 1, "category_id": 6, "bbox": [1, 2, 3, 4], "score": 1}]', "unknown category_id 6"),
        ('[{"image_id": 1, "category_id": 5, "bbox": [1, 2, 3, 4], "score": "high"}]', "score must be a number"),
    ],
)
def test_bad_results_files(tmp_path, content, message):
    gt = load_coco_gt(_gt(tmp_path))
    p = tmp_path / "res.json"
    p.write_text(content)
    with pytest.raises(DataError, match=message) as e:
        load_results(p, gt)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_bad_gt_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_coco_gt(tmp_path / "missing.json")
    with pytest.raises(DataError, match="JSON object.*results file"):
        p = tmp_path / "r.json"
        p.write_text("[]")
        load_coco_gt(p)
    with pytest.raises(DataError, match="missing list 'categories'"):
        load_coco_gt(_gt(tmp_path, categories=None))
    with pytest.raises(DataError, match=r"annotations\[0\]: unknown image_id 4"):
        load_coco_gt(_gt(tmp_path, annotations=[{"image_id": 4, "category_id": 5, "bbox": [0, 0, 1, 1]}]))
    with pytest.raises(DataError, match=r"annotations\[0\]: missing 'bbox'"):
        load_coco_gt(_gt(tmp_path, annotations=[{"image_id": 1, "category_id": 5}]))
    with pytest.raises(DataError, match="duplicate image id 1"):
        load_coco_gt(_gt(tmp_path, images=[{"id": 1}, {"id": 1}]))
