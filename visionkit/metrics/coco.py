"""COCO detection AP/AR through the official pycocotools ``COCOeval``.

COCO AP averages precision over 10 IoU thresholds (0.50:0.05:0.95), 101 recall points and all
categories, with greedy matching per image and crowd regions ignored; ``summarize`` reports 12
numbers, kept here under these keys:

    AP, AP50, AP75, APs, APm, APl      (average precision; s/m/l = object area < 32², < 96², larger)
    AR1, AR10, AR100, ARs, ARm, ARl    (average recall with at most 1/10/100 detections per image)

pycocotools writes -1 for a number that has no ground truth (e.g. APs when there is no small
object); we report ``nan`` instead, so every real value lies in [0, 1] and an absent one cannot
be averaged by mistake (the CLI prints it as ``null`` in JSON).

Two entry points: :func:`coco_evaluate` for our in-memory per-image dicts (any data set: the
COCO ground truth is built in memory, labels mapped to category ids), and
:func:`coco_evaluate_files` for a ground-truth JSON and a results JSON a user has.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from .results import load_coco_gt, load_results, to_coco_results

STAT_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


def _quiet(verbose: bool):
    return contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())


def coco_from_dataset(dataset: dict, verbose: bool = False):
    """A pycocotools ``COCO`` object from a dataset dict already in memory (no file round-trip)."""
    from pycocotools.coco import COCO

    with _quiet(verbose):
        coco = COCO()
        coco.dataset = dataset
        coco.createIndex()
    return coco


def evaluate_coco(coco_gt, results: list[dict], verbose: bool = False) -> dict:
    """Run ``COCOeval`` (bbox) on a ``COCO`` ground truth and a results list -> the 12 numbers."""
    from pycocotools.cocoeval import COCOeval

    with _quiet(verbose):
        if results:
            coco_dt = coco_gt.loadRes(copy.deepcopy(results))
        else:  # loadRes cannot take an empty list; no detection at all scores 0 AP
            coco_dt = coco_from_dataset(
                {"images": list(coco_gt.dataset["images"]), "categories": copy.deepcopy(coco_gt.dataset["categories"]), "annotations": []}
            )
        ev = COCOeval(coco_gt, coco_dt, iouType="bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {k: (float("nan") if v < 0 else float(v)) for k, v in zip(STAT_KEYS, ev.stats)}


def coco_evaluate(
    gts: Sequence[dict],
    preds: Sequence[dict],
    classes: Sequence[str],
    image_sizes: Sequence[tuple[int, int]] | None = None,
    cat_ids: Sequence[int] | None = None,
    iscrowd: Sequence | None = None,
    verbose: bool = False,
) -> dict:
    """COCO AP/AR of per-image predictions against per-image ground truth.

    Args:
        gts: one dict per image with ``boxes`` (N×4 xyxy pixels), ``labels`` (1..K) and
            optionally ``iscrowd`` (N bools).
        preds: same order, ``boxes``/``labels``/``scores``.
        classes: the K class names.
        image_sizes: optional ``(height, width)`` per image, stored in the in-memory GT.
        cat_ids: label ``i`` -> category id ``cat_ids[i - 1]`` (default: ``i``).
        iscrowd: optional per-image crowd flags (overrides ``gts[i]["iscrowd"]``).
        verbose: let pycocotools print its progress and summary table.

    Returns:
        The 12 :data:`STAT_KEYS`, each in [0, 1] or ``nan`` when undefined.
    """
    if len(gts) != len(preds):
        raise ValueError(f"gts has {len(gts)} images but preds has {len(preds)}")
    ids = list(cat_ids) if cat_ids is not None else list(range(1, len(classes) + 1))
    if len(ids) != len(classes):
        raise ValueError(f"{len(classes)} classes but {len(ids)} category ids")
    images, anns = [], []
    for i, g in enumerate(gts):
        im = {"id": i + 1}
        if image_sizes is not None:
            im["height"], im["width"] = int(image_sizes[i][0]), int(image_sizes[i][1])
        images.append(im)
        boxes = np.asarray(g["boxes"].detach().cpu() if hasattr(g["boxes"], "detach") else g["boxes"], dtype=np.float64)
        boxes = boxes.reshape(-1, 4)
        labels = np.asarray(g["labels"].cpu() if hasattr(g["labels"], "cpu") else g["labels"]).reshape(-1)
        crowd = iscrowd[i] if iscrowd is not None else g.get("iscrowd")
        crowd = np.zeros(len(boxes), bool) if crowd is None else np.asarray(crowd.cpu() if hasattr(crowd, "cpu") else crowd).reshape(-1)
        for b, l, c in zip(boxes.tolist(), labels.tolist(), crowd.tolist()):
            w, h = b[2] - b[0], b[3] - b[1]
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": ids[int(l) - 1],
                         "bbox": [b[0], b[1], w, h], "area": w * h, "iscrowd": int(bool(c))})
    cats = [{"id": cid, "name": str(name)} for cid, name in zip(ids, classes)]
    coco_gt = coco_from_dataset({"images": images, "annotations": anns, "categories": cats}, verbose)
    results = to_coco_results(preds, list(range(1, len(preds) + 1)), cat_ids=ids)
    return evaluate_coco(coco_gt, results, verbose)


def coco_evaluate_files(gt_json: str | Path, results_json: str | Path, verbose: bool = False) -> dict:
    """COCO AP/AR of a results JSON against a COCO instances JSON (both checked, DataError if bad)."""
    gt = load_coco_gt(gt_json)
    results = load_results(results_json, gt)
    return evaluate_coco(coco_from_dataset(gt, verbose), results, verbose)


def format_stats(stats: dict) -> str:
    """The 12 numbers as pycocotools' familiar summary lines."""
    rows = [
        ("AP", "0.50:0.95", "all", 100), ("AP50", "0.50", "all", 100), ("AP75", "0.75", "all", 100),
        ("APs", "0.50:0.95", "small", 100), ("APm", "0.50:0.95", "medium", 100), ("APl", "0.50:0.95", "large", 100),
        ("AR1", "0.50:0.95", "all", 1), ("AR10", "0.50:0.95", "all", 10), ("AR100", "0.50:0.95", "all", 100),
        ("ARs", "0.50:0.95", "small", 100), ("ARm", "0.50:0.95", "medium", 100), ("ARl", "0.50:0.95", "large", 100),
    ]
    lines = []
    for key, iou, area, md in rows:
        name = "Average Precision" if key.startswith("AP") else "Average Recall   "
        v = stats[key]
        shown = "  n/a" if math.isnan(v) else f"{v:.3f}"
        lines.append(f"{key:<6} {name} @[ IoU={iou:<9} | area={area:>6} | maxDets={md:>3} ] = {shown}")
    return "\n".join(lines)
