"""`visionkit score` on small files a user would have: same numbers as pycocotools by hand."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from visionkit.cli import main


def _write_coco(tmp_path, seed=0):
    rng = np.random.default_rng(seed)
    images = [{"id": 10 + i, "file_name": f"img{i}.jpg", "width": 400, "height": 300} for i in range(6)]
    cats = [{"id": 2, "name": "car"}, {"id": 7, "name": "person"}]
    anns, res = [], []
    for im in images:
        for _ in range(rng.integers(1, 5)):
            x, y = rng.uniform(0, 250, 2)
            w, h = rng.uniform(10, 140, 2)
            c = int(rng.choice([2, 7]))
            anns.append({"id": len(anns) + 1, "image_id": im["id"], "category_id": c, "bbox": [x, y, w, h],
                         "area": w * h, "iscrowd": 0})
            for _ in range(rng.integers(0, 3)):
                jit = rng.normal(0, 5, 4)
                res.append({"image_id": im["id"], "category_id": c, "score": float(rng.random()),
                            "bbox": [x + jit[0], y + jit[1], max(1.0, w + jit[2]), max(1.0, h + jit[3])]})
    gt_path, res_path = tmp_path / "gt.json", tmp_path / "res.json"
    gt_path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    res_path.write_text(json.dumps(res))
    return gt_path, res_path


def _run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_coco_json_identical_to_pycocotools(tmp_path, capsys):
    gt_path, res_path = _write_coco(tmp_path)
    code, out, _ = _run(capsys, "score", "--gt", str(gt_path), "--pred", str(res_path), "--metric", "coco", "--json")
    assert code == 0
    ours = json.loads(out)
    gt = COCO(str(gt_path))
    ev = COCOeval(gt, gt.loadRes(str(res_path)), "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    capsys.readouterr()
    keys = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]
    assert [k for k in ours if k != "matched"] == keys
    assert ours["matched"]["images"] == "image_id" and ours["matched"]["categories"] == "id"
    assert [(-1 if ours[k] is None else ours[k]) for k in keys] == [float(v) for v in ev.stats]
    code, table, _ = _run(capsys, "score", "--gt", str(gt_path), "--pred", str(res_path))
    assert code == 0 and "maxDets=100" in table and f"{ours['AP']:.3f}" in table


def _voc_files(tmp_path):
    images = [{"id": 1}, {"id": 2}]
    cats = [{"id": 1, "name": "cell"}, {"id": 2, "name": "wbc"}, {"id": 3, "name": "rare"}]
    anns = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]},  # corners 0..10 inclusive
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [50, 50, 20, 20]},
        {"id": 3, "image_id": 2, "category_id": 1, "bbox": [30, 30, 10, 10], "iscrowd": 1},
        {"id": 4, "image_id": 2, "category_id": 3, "bbox": [5, 5, 10, 10], "difficult": 1},
    ]
    res = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 5], "score": 0.9},  # IoU 0.545 (voc) / 0.5 (continuous)
        {"image_id": 2, "category_id": 1, "bbox": [30, 30, 10, 10], "score": 0.8},  # on the crowd box: ignored
        {"image_id": 2, "category_id": 3, "bbox": [5, 5, 10, 10], "score": 0.7},  # on a difficult box: ignored
    ]
    gt_path, res_path = tmp_path / "gt.json", tmp_path / "res.json"
    gt_path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    res_path.write_text(json.dumps(res))
    return gt_path, res_path


def test_voc_metrics_json_and_table(tmp_path, capsys):
    gt_path, res_path = _voc_files(tmp_path)
    base = ["score", "--gt", str(gt_path), "--pred", str(res_path), "--json"]
    code, out, _ = _run(capsys, *base, "--metric", "voc07")
    assert code == 0
    got = json.loads(out)
    # cell: 1 TP, AP 1; wbc: GT, no detection -> 0; rare: only difficult -> null
    assert got["per_class"]["cell"] == pytest.approx(1.0) and got["per_class"]["wbc"] == 0.0
    assert got["per_class"]["rare"] is None
    assert got["mAP"] == pytest.approx(0.5)
    # a stricter threshold: 0.545 < 0.6 -> the only cell detection is a FP
    code, out, _ = _run(capsys, *base, "--metric", "voc", "--iou", "0.6")
    assert json.loads(out)["per_class"]["cell"] == 0.0
    # continuous IoU is 50/100 = 0.5: still a match at 0.5 (>=), not at 0.51
    code, out, _ = _run(capsys, *base, "--metric", "voc", "--iou-mode", "continuous", "--iou", "0.51")
    assert json.loads(out)["per_class"]["cell"] == 0.0
    code, out, _ = _run(capsys, *base, "--metric", "voc", "--iou-mode", "continuous", "--iou", "0.5")
    assert json.loads(out)["per_class"]["cell"] == pytest.approx(1.0)
    code, table, _ = _run(capsys, "score", "--gt", str(gt_path), "--pred", str(res_path), "--metric", "voc")
    assert code == 0 and "mAP" in table and "rare" in table and "n/a" in table


def test_bad_files_give_one_line_errors(tmp_path, capsys):
    gt_path, res_path = _voc_files(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1}]')
    code, out, err = _run(capsys, "score", "--gt", str(gt_path), "--pred", str(bad))
    assert code == 2 and err.strip().count("\n") == 0
    assert err.startswith("error: ") and str(bad) in err and "bbox must be 4 numbers" in err
    bad.write_text("{not json")
    code, _, err = _run(capsys, "score", "--gt", str(bad), "--pred", str(res_path))
    assert code == 2 and "line 1, column 2" in err
    code, _, err = _run(capsys, "score", "--gt", str(res_path), "--pred", str(gt_path))
    assert code == 2 and "--pred" in err
    code, _, err = _run(capsys, "score", "--gt", str(tmp_path / "nope.json"), "--pred", str(res_path))
    assert code == 2 and "no such file" in err


def _png(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), arr.astype(np.uint8))


def test_segmentation_folders(tmp_path, capsys):
    gt = np.array([[0, 0, 1], [1, 2, 255]])
    pr = np.array([[0, 1, 1], [2, 2, 0]])
    _png(tmp_path / "gt" / "a.png", gt)
    _png(tmp_path / "pred" / "a_mask.png", pr)  # as `visionkit segment` names it
    _png(tmp_path / "gt" / "b.png", gt)  # no prediction for b
    _png(tmp_path / "gt" / "c.png", gt)
    _png(tmp_path / "pred" / "c.png", np.zeros((3, 3)))  # wrong size
    code, out, err = _run(capsys, "score", "--task", "segmentation", "--gt", str(tmp_path / "gt"),
                          "--pred", str(tmp_path / "pred"), "--json")
    assert code == 1  # scored what it could, then reported the problems
    got = json.loads(out)
    # matrix [[1,1,0],[0,1,1],[0,0,1]] (see tests/metrics/test_segmentation.py)
    assert got["images"] == 1 and got["num_classes"] == 3
    assert got["per_class_iou"] == pytest.approx([1 / 2, 1 / 3, 1 / 2])
    assert got["pixel_acc"] == pytest.approx(3 / 5)
    assert len(got["errors"]) == 2 and "2 problem(s)" in err and "b.png" in err and "3x3" in err
    code, out, err = _run(capsys, "score", "--task", "segmentation", "--gt", str(tmp_path / "gt"),
                          "--pred", str(tmp_path / "pred"), "--num-classes", "2")
    assert code == 2 and "no prediction could be scored" in err and "outside 0..1" in err
    code, _, err = _run(capsys, "score", "--task", "segmentation", "--gt", str(tmp_path / "none"), "--pred", str(tmp_path))
    assert code == 2 and "folder not found" in err


def test_segmentation_camvid_masks_against_themselves(data_dir, tmp_path, capsys):
    import shutil

    masks = sorted((data_dir / "camvid" / "testannot").glob("*.png"))[:3]
    assert masks
    for m in masks:  # a few real label PNGs; the prediction is the label with one class erased
        shutil.copy(m, tmp_path / m.name)
        lab = cv2.imread(str(m), cv2.IMREAD_UNCHANGED)
        _png(tmp_path / "pred" / m.name, np.where(lab == 3, 0, lab))  # road predicted as sky
    code, out, _ = _run(capsys, "score", "--task", "segmentation", "--gt", str(tmp_path),
                        "--pred", str(tmp_path / "pred"), "--num-classes", "11", "--ignore-index", "11", "--json")
    got = json.loads(out)
    assert code == 0 and got["images"] == 3
    assert got["per_class_iou"][3] == 0.0 and got["per_class_iou"][1] == 1.0 and 0 < got["mIoU"] < 1


def test_help_does_not_import_torch():
    code = ("import sys; from visionkit.cli import main; "
            "rc = main(['score', '--help']); assert 'torch' not in sys.modules and 'numpy' not in sys.modules; print(rc)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "--iou-mode" in r.stdout


def test_segmentation_without_any_prediction(tmp_path, capsys):
    _png(tmp_path / "gt" / "a.png", np.zeros((4, 4)))
    (tmp_path / "pred").mkdir()
    code, _, err = _run(capsys, "score", "--task", "segmentation", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"))
    assert code == 2 and "none of the 1 ground-truth masks" in err
