"""VOC AP against a loop-by-loop transcription of the devkit's VOCevaldet, plus hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

from visionkit.metrics.voc import average_precision, pairwise_iou, voc_evaluate


# ---------------------------------------------------------------------------------------------
# Reference: the devkit algorithm written out one detection at a time, as the MATLAB code reads.
def _ref_iou(bb, gt, plus):
    ix1, iy1 = max(bb[0], gt[0]), max(bb[1], gt[1])
    ix2, iy2 = min(bb[2], gt[2]), min(bb[3], gt[3])
    iw, ih = ix2 - ix1 + plus, iy2 - iy1 + plus
    if iw <= 0 or ih <= 0:
        return None  # the devkit skips boxes that do not overlap
    ua = (bb[2] - bb[0] + plus) * (bb[3] - bb[1] + plus) + (gt[2] - gt[0] + plus) * (gt[3] - gt[1] + plus) - iw * ih
    return iw * ih / ua


def _ref_class_ap(gts, preds, cls, thr, use07, plus):
    gt_boxes, gt_diff, gt_taken, npos = {}, {}, {}, 0
    for i, g in enumerate(gts):
        sel = [j for j, l in enumerate(g["labels"]) if l == cls]
        gt_boxes[i] = [list(g["boxes"][j]) for j in sel]
        diff = g.get("difficult")
        gt_diff[i] = [bool(diff[j]) if diff is not None else False for j in sel]
        gt_taken[i] = [False] * len(sel)
        npos += sum(not x for x in gt_diff[i])
    dets = []  # (score, image, box) in submission order
    for i, p in enumerate(preds):
        for b, l, s in zip(p["boxes"], p["labels"], p["scores"]):
            if l == cls:
                dets.append((float(s), i, list(b)))
    dets = sorted(dets, key=lambda t: -t[0])  # Python's sort is stable: ties keep file order
    tp, fp = [], []
    for _score, i, bb in dets:
        ovmax, jmax = -math.inf, -1
        for j, gb in enumerate(gt_boxes[i]):
            ov = _ref_iou(bb, gb, plus)
            if ov is not None and ov > ovmax:
                ovmax, jmax = ov, j
        t = f = 0
        if ovmax >= thr:
            if not gt_diff[i][jmax]:
                if not gt_taken[i][jmax]:
                    t = 1
                    gt_taken[i][jmax] = True
                else:
                    f = 1
        else:
            f = 1
        tp.append(t)
        fp.append(f)
    if npos == 0:
        return math.nan
    ctp = cfp = 0
    rec, prec = [], []
    for t, f in zip(tp, fp):
        ctp += t
        cfp += f
        rec.append(ctp / npos)
        prec.append(ctp / (ctp + cfp) if ctp + cfp else 0.0)
    if use07:
        ap = 0.0
        for k in range(11):
            t = np.arange(0.0, 1.1, 0.1)[k]
            ps = [p for r, p in zip(rec, prec) if r >= t]
            ap += (max(ps) if ps else 0.0) / 11
        return ap
    mrec = [0.0] + rec + [1.0]
    mpre = [0.0] + prec + [0.0]
    for k in range(len(mpre) - 2, -1, -1):
        mpre[k] = max(mpre[k], mpre[k + 1])
    return sum((mrec[k + 1] - mrec[k]) * mpre[k + 1] for k in range(len(mrec) - 1) if mrec[k + 1] != mrec[k])


def _random_case(rng, n_img=12, n_cls=3, integer=True):
    gts, preds = [], []
    for _ in range(n_img):
        n = rng.integers(0, 5)
        xy = rng.uniform(0, 80, (n, 2))
        wh = rng.uniform(5, 40, (n, 2))
        boxes = np.concatenate([xy, xy + wh], 1)
        if integer:
            boxes = np.round(boxes)
        labels = rng.integers(1, n_cls + 1, n)
        gts.append({"boxes": boxes, "labels": labels, "difficult": rng.random(n) < 0.2})
        m = rng.integers(0, 8)
        src = rng.integers(0, max(n, 1), m)
        pb = boxes[src] + rng.normal(0, 4, (m, 4)) if n else rng.uniform(0, 100, (m, 4))
        pb[:, 2:] = np.maximum(pb[:, 2:], pb[:, :2] + 1)
        if integer:
            pb = np.round(pb)
        pl = labels[src] if n else rng.integers(1, n_cls + 1, m)
        flip = rng.random(m) < 0.2
        pl = np.where(flip, rng.integers(1, n_cls + 1, m), pl)
        scores = np.round(rng.random(m), 1)  # coarse scores: many ties
        preds.append({"boxes": pb.reshape(-1, 4), "labels": pl, "scores": scores})
    return gts, preds


@pytest.mark.parametrize("metric", ["voc07", "voc"])
@pytest.mark.parametrize("iou_mode", ["voc", "continuous"])
@pytest.mark.parametrize("thr", [0.5, 0.3, 0.75])
def test_matches_loop_reference_on_random_cases(metric, iou_mode, thr):
    rng = np.random.default_rng(hash((metric, iou_mode, thr)) % 2**32)
    classes = ["a", "b", "c"]
    for _ in range(15):
        gts, preds = _random_case(rng, integer=rng.random() < 0.5)
        out = voc_evaluate(gts, preds, classes, iou_thr=thr, metric=metric, iou_mode=iou_mode)
        ref = [_ref_class_ap(gts, preds, k, thr, metric == "voc07", 1.0 if iou_mode == "voc" else 0.0) for k in (1, 2, 3)]
        got = [out["per_class"][c] for c in classes]
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12, equal_nan=True)
        valid = [r for r in ref if not math.isnan(r)]
        if valid:
            assert out["mAP"] == pytest.approx(np.mean(valid), abs=1e-12)


def test_hand_worked_case_voc07_and_area():
    # one class, 2 GTs; detections by score: TP, FP (no overlap), TP.
    gts = [{"boxes": np.array([[0, 0, 9, 9], [20, 20, 29, 29]]), "labels": np.array([1, 1])}]
    preds = [{"boxes": np.array([[0, 0, 9, 9], [50, 50, 60, 60], [20, 20, 29, 29]]),
              "labels": np.array([1, 1, 1]), "scores": np.array([0.9, 0.8, 0.7])}]
    # recall 0.5, 0.5, 1.0; precision 1, 1/2, 2/3.
    area = voc_evaluate(gts, preds, ["x"], metric="voc")
    assert area["per_class"]["x"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    v07 = voc_evaluate(gts, preds, ["x"], metric="voc07")
    # t = 0..0.5 (6 thresholds): max precision 1; t = 0.6..1.0 (5): 2/3.
    assert v07["per_class"]["x"] == pytest.approx((6 * 1 + 5 * 2 / 3) / 11)
    rec, prec = area["curves"]["x"]
    np.testing.assert_allclose(rec, [0.5, 0.5, 1.0])
    np.testing.assert_allclose(prec, [1.0, 0.5, 2 / 3])


def test_duplicates_are_false_positives_and_best_gt_is_not_reassigned():
    # Two GTs; the second detection overlaps GT0 best (already taken) -> FP, even though it also
    # overlaps GT1 above threshold: the devkit never falls back to the second-best GT.
    gts = [{"boxes": np.array([[0, 0, 10, 10], [3, 0, 13, 10]]), "labels": np.array([1, 1])}]
    preds = [{"boxes": np.array([[0, 0, 10, 10], [1, 0, 11, 10]]), "labels": np.array([1, 1]),
              "scores": np.array([0.9, 0.8])}]
    out = voc_evaluate(gts, preds, ["x"], metric="voc")
    rec, prec = out["curves"]["x"]
    np.testing.assert_allclose(rec, [0.5, 0.5])
    np.testing.assert_allclose(prec, [1.0, 0.5])
    assert out["per_class"]["x"] == pytest.approx(0.5)


def test_difficult_is_ignored_and_not_counted():
    gts = [{"boxes": np.array([[0, 0, 10, 10], [30, 30, 40, 40]]), "labels": np.array([1, 1]),
            "difficult": np.array([False, True])}]
    preds = [{"boxes": np.array([[30, 30, 40, 40], [30, 30, 40, 40], [0, 0, 10, 10]]),
              "labels": np.array([1, 1, 1]), "scores": np.array([0.9, 0.8, 0.7])}]
    out = voc_evaluate(gts, preds, ["x"], metric="voc")
    # both hits on the difficult GT are ignored (even the second one); npos = 1 -> AP 1.
    assert out["per_class"]["x"] == pytest.approx(1.0)
    np.testing.assert_allclose(out["curves"]["x"][0], [1.0])


def test_class_without_detections_and_class_with_only_difficult_gt():
    gts = [{"boxes": np.array([[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]]),
            "labels": np.array([1, 2, 3]), "difficult": np.array([False, False, True])}]
    preds = [{"boxes": np.array([[0, 0, 10, 10], [40, 40, 50, 50]]), "labels": np.array([1, 3]),
              "scores": np.array([0.5, 0.5])}]
    for metric in ("voc07", "voc"):
        out = voc_evaluate(gts, preds, ["a", "b", "c"], metric=metric)
        assert out["per_class"]["a"] == pytest.approx(1.0)
        assert out["per_class"]["b"] == 0.0  # GT but no detection: AP 0, counted in the mean
        assert math.isnan(out["per_class"]["c"])  # only difficult GT: undefined, left out
        assert out["mAP"] == pytest.approx(0.5)


def test_no_images_or_no_gt_gives_nan_map():
    out = voc_evaluate([], [], ["a"])
    assert math.isnan(out["mAP"]) and math.isnan(out["per_class"]["a"])
    out = voc_evaluate([{"boxes": np.zeros((0, 4)), "labels": np.zeros(0)}],
                       [{"boxes": np.array([[0, 0, 1, 1]]), "labels": np.array([1]), "scores": np.array([1.0])}], ["a"])
    assert math.isnan(out["mAP"])


def test_ties_keep_submission_order():
    # Same score: the first submitted detection takes the GT, the second is a duplicate.
    gts = [{"boxes": np.array([[0, 0, 10, 10]]), "labels": np.array([1])}]
    preds = [{"boxes": np.array([[0, 0, 10, 10], [0, 0, 10, 10]]), "labels": np.array([1, 1]),
              "scores": np.array([0.5, 0.5])}]
    rec, prec = voc_evaluate(gts, preds, ["x"], metric="voc")["curves"]["x"]
    np.testing.assert_allclose(prec, [1.0, 0.5])


def test_threshold_is_inclusive_and_iou_modes_differ():
    # inclusive IoU of [0,0,9,9] vs [0,0,9,4]: (10*5)/(10*10) = 0.5 exactly -> a match at 0.5.
    gts = [{"boxes": np.array([[0, 0, 9, 9]]), "labels": np.array([1])}]
    preds = [{"boxes": np.array([[0, 0, 9, 4]]), "labels": np.array([1]), "scores": np.array([1.0])}]
    assert voc_evaluate(gts, preds, ["x"], iou_mode="voc")["mAP"] == 1.0
    # continuous IoU is 9*4 / (9*9) = 0.444 -> no match.
    assert voc_evaluate(gts, preds, ["x"], iou_mode="continuous")["mAP"] == 0.0


def test_pairwise_iou_against_torchvision():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0, 50, (7, 2)), rng.uniform(50, 90, (7, 2))], 1)
    b = np.concatenate([rng.uniform(0, 50, (5, 2)), rng.uniform(50, 90, (5, 2))], 1)
    ref = box_iou(torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_allclose(pairwise_iou(a, b, "continuous"), ref, atol=1e-12)
    # inclusive IoU equals the continuous IoU of boxes grown by one pixel on the far side
    grown = box_iou(torch.tensor(a + [0, 0, 1, 1]), torch.tensor(b + [0, 0, 1, 1])).numpy()
    np.testing.assert_allclose(pairwise_iou(a, b, "voc"), grown, atol=1e-12)


def test_average_precision_edge_cases():
    assert average_precision(np.zeros(0), np.zeros(0), "voc07") == 0.0
    assert average_precision(np.zeros(0), np.zeros(0), "voc") == 0.0
    assert average_precision(np.array([1.0]), np.array([1.0]), "voc07") == pytest.approx(1.0)
    with pytest.raises(ValueError):
        average_precision(np.zeros(1), np.zeros(1), "coco")


def test_accepts_tensors():
    gts = [{"boxes": torch.tensor([[0.0, 0, 10, 10]]), "labels": torch.tensor([1])}]
    preds = [{"boxes": torch.tensor([[0.0, 0, 10, 10]]), "labels": torch.tensor([1]), "scores": torch.tensor([0.3])}]
    assert voc_evaluate(gts, preds, ["x"])["mAP"] == 1.0


def test_bccd_val_against_loop_reference(data_dir):
    """Real VOC annotations (BCCD val, read by the project's VOC reader), jittered detections."""
    from visionkit.data.voc import VOCDetection

    ds = VOCDetection(data_dir / "bccd", split="val")
    rng = np.random.default_rng(0)
    gts, preds = [], []
    for it in ds.items:
        gts.append({"boxes": it.boxes.astype(np.float64), "labels": it.labels, "difficult": it.difficult})
        m = len(it.labels) + 3
        src = rng.integers(0, max(len(it.labels), 1), m)
        pb = it.boxes[src].astype(np.float64) + rng.normal(0, 6, (m, 4)).round()
        preds.append({"boxes": pb, "labels": it.labels[src], "scores": rng.random(m)})
    assert len(gts) == 87 and sorted(ds.classes) == ["Platelets", "RBC", "WBC"]
    for metric in ("voc07", "voc"):
        out = voc_evaluate(gts, preds, ds.classes, metric=metric)
        ref = [_ref_class_ap(gts, preds, k, 0.5, metric == "voc07", 1.0) for k in (1, 2, 3)]
        np.testing.assert_allclose([out["per_class"][c] for c in ds.classes], ref, atol=1e-12)
        assert 0.3 < out["mAP"] < 1.0


def test_f1_threshold_hand_worked():
    from visionkit.metrics.voc import f1_threshold

    g = [[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]]
    far = [[100, 100, 110, 110], [120, 100, 130, 110]]
    gts = [{"boxes": g, "labels": [1, 1, 1]}]
    # scores 0.9 TP, 0.8 TP, 0.5 FP, 0.4 FP, 0.2 TP of 3 GTs; class 2 has no GT and is left out
    preds = [{"boxes": [g[0], g[1], far[0], far[1], g[2], far[0]], "labels": [1, 1, 1, 1, 1, 2],
              "scores": [0.9, 0.8, 0.5, 0.4, 0.2, 0.99]}]
    best, f1, grid, mean = f1_threshold(gts, preds, num_classes=2)
    # t <= 0.2: 3 TP 2 FP -> 6/8; (0.2, 0.4]: 2 TP 2 FP 1 FN -> 4/7; (0.4, 0.5]: 4/6; (0.5, 0.8]: 2 TP 0 FP 1 FN -> 4/5
    assert best == pytest.approx(0.51) and f1 == pytest.approx(0.8)
    assert mean[list(np.round(grid, 2)).index(0.2)] == pytest.approx(0.75)
    assert mean[list(np.round(grid, 2)).index(0.3)] == pytest.approx(4 / 7)
    assert mean[-1] == 0.0  # nothing kept above 0.99 for class 1
