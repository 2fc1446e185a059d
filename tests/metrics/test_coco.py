"""coco_evaluate / coco_evaluate_files give exactly what pycocotools gives when run by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from visionkit.metrics.coco import STAT_KEYS, coco_evaluate, coco_evaluate_files, format_stats


def _random(rng, n_img=8, n_cls=3):
    gts, preds = [], []
    for _ in range(n_img):
        n = rng.integers(1, 6)
        xy = rng.uniform(0, 300, (n, 2))
        wh = rng.uniform(8, 150, (n, 2))
        b = np.concatenate([xy, xy + wh], 1)
        lab = rng.integers(1, n_cls + 1, n)
        gts.append({"boxes": b, "labels": lab})
        m = rng.integers(0, 10)
        src = rng.integers(0, n, m)
        pb = b[src] + rng.normal(0, 6, (m, 4))
        pb[:, 2:] = np.maximum(pb[:, 2:], pb[:, :2] + 1)
        preds.append({"boxes": pb, "labels": lab[src], "scores": rng.random(m)})
    return gts, preds


def _pycocotools_by_hand(gts, preds, cat_ids):
    """Build the same GT/results by hand and run COCOeval directly."""
    images = [{"id": i + 1} for i in range(len(gts))]
    anns, res = [], []
    for i, g in enumerate(gts):
        for b, l in zip(g["boxes"], g["labels"]):
            w, h = b[2] - b[0], b[3] - b[1]
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": cat_ids[l - 1],
                         "bbox": [b[0], b[1], w, h], "area": w * h, "iscrowd": 0})
    for i, p in enumerate(preds):
        for b, l, s in zip(p["boxes"], p["labels"], p["scores"]):
            res.append({"image_id": i + 1, "category_id": cat_ids[l - 1], "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "score": s})
    gt = COCO()
    gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": c, "name": str(c)} for c in cat_ids]}
    gt.createIndex()
    ev = COCOeval(gt, gt.loadRes(res), "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev.stats


def _same(ours: dict, stats):
    for k, v in zip(STAT_KEYS, stats):
        assert (math.isnan(ours[k]) and v == -1) or ours[k] == v, k


def test_in_memory_matches_pycocotools_and_maps_category_ids():
    rng = np.random.default_rng(0)
    gts, preds = _random(rng)
    cat_ids = [3, 17, 90]  # non-contiguous, like COCO's
    ours = coco_evaluate(gts, preds, ["a", "b", "c"], cat_ids=cat_ids)
    _same(ours, _pycocotools_by_hand(gts, preds, cat_ids))
    assert 0 < ours["AP"] < 1 and ours["AP50"] >= ours["AP75"]
    # the id mapping does not change the numbers
    assert coco_evaluate(gts, preds, ["a", "b", "c"]) == ours


def test_perfect_and_empty_predictions(capsys):
    gts = [{"boxes": np.array([[10, 10, 110, 90], [0, 0, 20, 20]]), "labels": np.array([1, 2])}]
    perfect = [{"boxes": gts[0]["boxes"], "labels": gts[0]["labels"], "scores": np.array([0.9, 0.8])}]
    out = coco_evaluate(gts, perfect, ["big", "small"], image_sizes=[(100, 120)])
    assert out["AP"] == pytest.approx(1.0) and out["AR100"] == pytest.approx(1.0)
    assert math.isnan(out["APl"])  # no large object: pycocotools' -1 becomes nan
    assert capsys.readouterr().out == ""  # pycocotools is silenced
    empty = [{"boxes": np.zeros((0, 4)), "labels": np.zeros(0, int), "scores": np.zeros(0)}]
    out = coco_evaluate(gts, empty, ["big", "small"])
    assert out["AP"] == 0.0 and out["AR100"] == 0.0
    assert "AP50" in format_stats(out)


def test_crowd_gt_is_ignored():
    gts = [{"boxes": np.array([[10, 10, 110, 90], [200, 200, 300, 300]]), "labels": np.array([1, 1]),
            "iscrowd": np.array([False, True])}]
    preds = [{"boxes": gts[0]["boxes"][:1], "labels": np.array([1]), "scores": np.array([0.9])}]
    assert coco_evaluate(gts, preds, ["x"])["AP"] == pytest.approx(1.0)


def test_files_match_pycocotools_run_on_the_same_files(tmp_path):
    rng = np.random.default_rng(1)
    gts, preds = _random(rng, n_img=6)
    cat_ids = [1, 5, 7]
    images = [{"id": 100 + i, "file_name": f"{i}.jpg", "width": 500, "height": 500} for i in range(len(gts))]
    anns, res = [], []
    for i, g in enumerate(gts):
        for b, l in zip(g["boxes"].tolist(), g["labels"].tolist()):
            anns.append({"id": len(anns) + 1, "image_id": 100 + i, "category_id": cat_ids[l - 1],
                         "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "area": (b[2] - b[0]) * (b[3] - b[1]), "iscrowd": 0})
    for i, p in enumerate(preds):
        for b, l, s in zip(p["boxes"].tolist(), p["labels"].tolist(), p["scores"].tolist()):
            res.append({"image_id": 100 + i, "category_id": cat_ids[l - 1], "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "score": s})
    gt_path, res_path = tmp_path / "gt.json", tmp_path / "res.json"
    gt_path.write_text(json.dumps({"images": images, "annotations": anns,
                                   "categories": [{"id": c, "name": f"c{c}"} for c in cat_ids]}))
    res_path.write_text(json.dumps(res))
    gt = COCO(str(gt_path))
    ev = COCOeval(gt, gt.loadRes(str(res_path)), "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    _same(coco_evaluate_files(gt_path, res_path), ev.stats)


def test_coco128_ground_truth_scored_against_itself(data_dir, tmp_path):
    path = data_dir / "coco128" / "annotations" / "instances_train2017.json"
    gt = json.loads(path.read_text())
    res = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
           for a in gt["annotations"] if not a.get("iscrowd", 0)]
    (tmp_path / "res.json").write_text(json.dumps(res))
    out = coco_evaluate_files(path, tmp_path / "res.json")
    assert out["AP"] == pytest.approx(1.0) and out["AP50"] == pytest.approx(1.0)
