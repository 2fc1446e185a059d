"""Pascal VOC detection AP: the devkit's algorithm, vectorised with numpy.

How the VOC devkit (``VOCevaldet.m``) scores one class
------------------------------------------------------
1. Gather every detection of the class over the whole test set and sort them by descending
   score (ties keep submission order: image order, then order within the image).
2. For each detection, look at the ground-truth (GT) boxes of the same class *in its image*
   and take the one with the largest IoU (``jmax``; the first one on ties). The devkit never
   falls back to the second-best GT.
3. If that IoU is at least the threshold (``>=``, 0.5 by default):
     * the GT is ``difficult`` -> the detection is *ignored* (neither TP nor FP);
     * the GT is not yet matched -> true positive, and the GT becomes matched;
     * the GT was already matched by a higher-scoring detection -> false positive (duplicate).
   Otherwise -> false positive.
4. ``npos`` = number of non-difficult GTs. ``recall = cumsum(tp) / npos`` and
   ``precision = cumsum(tp) / (cumsum(tp) + cumsum(fp))`` along the sorted detections.
5. AP summarises the precision/recall curve:
     * ``"voc07"`` (VOC2007, 11-point): mean over t in {0, 0.1, ..., 1} of the highest precision
       at recall >= t (0 when recall never reaches t);
     * ``"voc"`` (VOC2010 and later, all-point): make precision monotone (running max from the
       right) and sum the area under the resulting step curve at every recall change.

IoU is the devkit's *inclusive-pixel* IoU: a box ``x1..x2`` covers ``x2 - x1 + 1`` pixels, so
``+1`` is added to every width and height (as Detectron2's and MMDetection's VOC evaluators
do). ``iou_mode="continuous"`` uses the continuous IoU of pycocotools / ``torchvision.ops``.

Why it is fast
--------------
Step 2 does not depend on the order of the detections, only step 3's "already matched" does.
So the best GT of every detection is found at once (all detection/GT pairs of the same image
and class, IoU by numpy broadcasting, a segmented arg-max), and step 3 becomes "the first
detection, in score order, that claims a given GT is the TP": one ``np.unique`` call. The
only sort is one ``np.lexsort`` over (class, -score). No Python loop runs over detections.

Choices where the references differ (documented, tested)
--------------------------------------------------------
* A class with no non-difficult GT (``npos = 0``) has an undefined recall (``tp / 0``). The
  MATLAB devkit and Detectron2's ``voc_eval`` with the 11-point metric then return AP 0 and
  average it into the mean; Detectron2 with the all-point metric returns ``nan`` as soon as
  the class has a detection (so its mean becomes ``nan``); MMDetection's ``eval_map`` leaves
  such classes out of the mean. We return ``nan`` for the class and leave it out of ``mAP``
  (as MMDetection), so a class the test set does not contain neither drags the mean down nor
  poisons it. A class with GT but no detections has AP 0 and counts.
* The threshold test is the devkit's ``>=``; py-faster-rcnn and Detectron2 use ``>``; they
  differ only when an IoU equals the threshold exactly.
* Ignored detections (matched to a difficult GT) are left out of the returned curves; they add
  no point that changes AP.
* The 11 recall thresholds are ``np.arange(0, 1.1, 0.1)`` as in the Python ports.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

METRICS = ("voc07", "voc")
IOU_MODES = ("voc", "continuous")


def pairwise_iou(a: np.ndarray, b: np.ndarray, iou_mode: str = "voc") -> np.ndarray:
    """IoU of every box in ``a`` (N×4 xyxy) with every box in ``b`` (M×4): an N×M array.

    ``iou_mode="voc"`` counts pixels inclusively (+1 on widths and heights), ``"continuous"``
    is the usual area formula (equal to ``torchvision.ops.box_iou``).
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    return _iou_pairs(a[:, None, :], b[None, :, :], _offset(iou_mode))


def _offset(iou_mode: str) -> float:
    if iou_mode not in IOU_MODES:
        raise ValueError(f"iou_mode must be one of {IOU_MODES}, got {iou_mode!r}")
    return 1.0 if iou_mode == "voc" else 0.0


def _iou_pairs(a: np.ndarray, b: np.ndarray, off: float) -> np.ndarray:
    """IoU of boxes ``a[..., :]`` and ``b[..., :]`` element-wise (broadcasting); 0 if disjoint."""
    iw = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]) + off
    ih = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]) + off
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area_a = (a[..., 2] - a[..., 0] + off) * (a[..., 3] - a[..., 1] + off)
    area_b = (b[..., 2] - b[..., 0] + off) * (b[..., 3] - b[..., 1] + off)
    union = area_a + area_b - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(inter > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return iou


def average_precision(recall: np.ndarray, precision: np.ndarray, metric: str = "voc") -> float:
    """Area summary of one precision/recall curve (points in score order).

    ``metric="voc07"``: 11-point interpolated AP; ``"voc"``: all-point (area under the
    monotone envelope), as in the VOC2010+ devkit.
    """
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if metric == "voc07":
        # summed, then divided once (as MMDetection): a perfect class gives exactly 1.0, where
        # the devkit's running ``ap + p / 11`` gives 1.0000000000000002
        total = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            sel = recall >= t
            total += precision[sel].max() if sel.any() else 0.0
        return float(total / 11.0)
    if metric != "voc":
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # precision envelope, running max from the right
    i = np.flatnonzero(mrec[1:] != mrec[:-1])  # points where recall changes
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def _stack(items: Sequence[dict], key: str, n_cols: int | None, dtype) -> list[np.ndarray]:
    out = []
    for d in items:
        v = d.get(key)
        if v is None:
            v = np.zeros((0, n_cols) if n_cols else (0,), dtype=dtype)
        v = np.asarray(v.detach().cpu() if hasattr(v, "detach") else v, dtype=dtype)
        out.append(v.reshape(-1, n_cols) if n_cols else v.reshape(-1))
    return out


def _flatten(items: Sequence[dict], with_scores: bool):
    """Concatenate per-image dicts into flat arrays plus the image index of each row."""
    boxes = _stack(items, "boxes", 4, np.float64)
    labels = _stack(items, "labels", None, np.int64)
    counts = np.array([len(b) for b in boxes], dtype=np.int64)
    for i, (b, l) in enumerate(zip(boxes, labels)):
        if len(b) != len(l):
            raise ValueError(f"image {i}: {len(b)} boxes but {len(l)} labels")
    img = np.repeat(np.arange(len(items)), counts)
    cat = lambda xs, shape: np.concatenate(xs) if xs else np.zeros(shape)  # noqa: E731
    out = {"boxes": cat(boxes, (0, 4)).astype(np.float64), "labels": cat(labels, (0,)).astype(np.int64), "img": img}
    if with_scores:
        out["scores"] = cat(_stack(items, "scores", None, np.float64), (0,)).astype(np.float64)
        if len(out["scores"]) != len(out["boxes"]):
            raise ValueError("every prediction needs one score per box")
    else:
        diff = _stack(items, "difficult", None, bool)  # missing key -> empty -> all False below
        diff = [v if len(v) else np.zeros(len(b), bool) for v, b in zip(diff, boxes)]
        out["difficult"] = cat(diff, (0,)).astype(bool)
        if len(out["difficult"]) != len(out["boxes"]):
            raise ValueError("every ground-truth image needs one 'difficult' flag per box")
    return out


def match_detections(gts: Sequence[dict], preds: Sequence[dict], iou_thr: float = 0.5, iou_mode: str = "voc"):
    """Devkit matching of every detection, all classes at once.

    Returns ``(order, labels, status, npos)``: ``order`` sorts the flat detections by
    (label, descending score, submission order); ``labels`` are their labels in that order;
    ``status`` is +1 (TP), 0 (ignored: best GT is difficult) or -1 (FP) in that order;
    ``npos`` maps label -> number of non-difficult GTs.
    """
    if len(gts) != len(preds):
        raise ValueError(f"gts has {len(gts)} images but preds has {len(preds)}")
    off = _offset(iou_mode)
    g = _flatten(gts, with_scores=False)
    d = _flatten(preds, with_scores=True)
    n_img = len(gts)

    # Sort GT by (label, image) so the GTs of one (image, class) cell are a contiguous run.
    key_g = g["labels"] * n_img + g["img"]
    g_order = np.argsort(key_g, kind="stable")
    key_g = key_g[g_order]
    g_boxes, g_diff = g["boxes"][g_order], g["difficult"][g_order]

    # Sort detections by (label, -score), stably: ties keep submission order.
    order = np.lexsort((-d["scores"], d["labels"]))
    d_lab, d_img, d_boxes = d["labels"][order], d["img"][order], d["boxes"][order]
    key_d = d_lab * n_img + d_img

    # Every (detection, GT of the same image and class) pair, as flat index arrays.
    start = np.searchsorted(key_g, key_d, side="left")
    count = np.searchsorted(key_g, key_d, side="right") - start
    n_pairs = int(count.sum())
    det_of_pair = np.repeat(np.arange(len(order)), count)
    first_pair = np.cumsum(count) - count
    gt_of_pair = np.repeat(start, count) + (np.arange(n_pairs) - np.repeat(first_pair, count))
    iou = _iou_pairs(d_boxes[det_of_pair], g_boxes[gt_of_pair], off)

    # Segmented arg-max: the best GT of each detection (first one on ties, like the devkit).
    ovmax = np.zeros(len(order))
    jmax = np.full(len(order), -1, dtype=np.int64)
    has = count > 0
    if n_pairs:
        ovmax[has] = np.maximum.reduceat(iou, first_pair[has])
        is_max = iou == ovmax[det_of_pair]
        dets_hit, first = np.unique(det_of_pair[is_max], return_index=True)
        jmax[dets_hit] = gt_of_pair[is_max][first]

    matched = has & (ovmax >= iou_thr) & (ovmax > 0)
    status = np.full(len(order), -1, dtype=np.int8)
    ignored = matched.copy()
    ignored[matched] = g_diff[jmax[matched]]
    status[ignored] = 0
    claim = np.flatnonzero(matched & ~ignored)
    # The first claimant of each GT (in sorted order) is the TP; later ones are duplicates.
    _, first_claim = np.unique(jmax[claim], return_index=True)
    status[claim[first_claim]] = 1

    labels_all = g["labels"][~g["difficult"]]
    uniq, cnt = np.unique(labels_all, return_counts=True)
    npos = dict(zip(uniq.tolist(), cnt.tolist()))
    return order, d_lab, status, npos


def voc_evaluate(
    gts: Sequence[dict],
    preds: Sequence[dict],
    classes: Sequence[str],
    iou_thr: float = 0.5,
    metric: str = "voc07",
    iou_mode: str = "voc",
    matched: tuple | None = None,
) -> dict:
    """Pascal VOC AP per class and its mean.

    Args:
        gts: one dict per image: ``boxes`` (N×4 xyxy), ``labels`` (N ints in 1..K) and
            optionally ``difficult`` (N bools). Numpy arrays, lists or tensors.
        preds: same images in the same order: ``boxes``, ``labels``, ``scores``.
        classes: the K class names; label ``i`` is ``classes[i - 1]``.
        iou_thr: IoU needed for a match (``>=``, as in the devkit).
        metric: ``"voc07"`` (11-point) or ``"voc"`` (all-point area, VOC2010+).
        iou_mode: ``"voc"`` (inclusive pixels, +1) or ``"continuous"`` (pycocotools' IoU).
        matched: :func:`match_detections` of these ``gts`` and ``preds``, when the caller has it
            already (then its IoU settings hold, not ``iou_thr``/``iou_mode``).

    Returns:
        ``{"mAP": float, "per_class": {name: AP}, "curves": {name: (recall, precision)}}``.
        A class without non-difficult GT gets AP ``nan`` and is left out of ``mAP`` (``nan``
        if no class has GT). See the module docstring for the algorithm.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    _, d_lab, status, npos = matched if matched is not None else match_detections(gts, preds, iou_thr, iou_mode)
    per_class: dict[str, float] = {}
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    lo = np.searchsorted(d_lab, np.arange(1, len(classes) + 1), side="left")
    hi = np.searchsorted(d_lab, np.arange(1, len(classes) + 1), side="right")
    for k, name in enumerate(classes):
        st = status[lo[k] : hi[k]]
        st = st[st != 0]  # ignored detections add no point to the curve
        tp = np.cumsum(st == 1)
        fp = np.cumsum(st == -1)
        n = npos.get(k + 1, 0)
        if n == 0:
            per_class[name] = float("nan")
            curves[name] = (np.zeros(0), np.zeros(0))
            continue
        rec = tp / float(n)
        prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
        per_class[name] = average_precision(rec, prec, metric)
        curves[name] = (rec, prec)
    valid = [v for v in per_class.values() if not np.isnan(v)]
    m_ap = float(np.mean(valid)) if valid else float("nan")
    return {"mAP": m_ap, "per_class": per_class, "curves": curves}


def f1_threshold(gts: Sequence[dict], preds: Sequence[dict], num_classes: int, iou_thr: float = 0.5,
                 iou_mode: str = "voc", grid: Sequence[float] | None = None,
                 matched: tuple | None = None) -> tuple[float, float, np.ndarray, np.ndarray]:
    """The score threshold that maximises the class-mean F1 of the detections kept above it
    (devkit matching at ``iou_thr``; classes without GT are left out) — the operating point a
    user sees with ``visionkit detect --conf``, where mAP is threshold-free.

    ``matched`` is as in :func:`voc_evaluate`. Returns ``(best_threshold, best_f1, thresholds,
    mean_f1_per_threshold)``.
    """
    grid = np.round(np.arange(0.01, 1.0, 0.01), 2) if grid is None else np.asarray(grid, np.float64)
    order, d_lab, status, npos = matched if matched is not None else match_detections(gts, preds, iou_thr, iou_mode)
    scores = _flatten(preds, with_scores=True)["scores"][order]
    f1 = np.zeros((len(grid), num_classes))
    used = []
    for k in range(1, num_classes + 1):
        n = npos.get(k, 0)
        if n == 0:
            continue
        used.append(k - 1)
        s, st = scores[d_lab == k], status[d_lab == k]
        kept = s[None, :] >= grid[:, None]
        tp = (kept & (st == 1)).sum(1)
        fp = (kept & (st == -1)).sum(1)
        f1[:, k - 1] = 2 * tp / np.maximum(2 * tp + fp + (n - tp), 1)
    mean = f1[:, used].mean(1) if used else np.zeros(len(grid))
    best = int(np.argmax(mean))  # the lowest threshold among ties
    return float(grid[best]), float(mean[best]), grid, mean
