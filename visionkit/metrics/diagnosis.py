"""Where a detector's errors come from (in the spirit of Hoiem, Chodpathumwan & Dai,
"Diagnosing Error in Object Detectors", 2012): each false positive above a score threshold is
put in one bin, with the devkit's matching (highest score first, one TP per GT):

* ``duplicate``: overlaps a GT of its class by >= ``iou_thr``, already claimed by a higher score;
* ``localisation``: its best GT of its class overlaps it by [``near``, ``iou_thr``);
* ``confusion``: no such GT, but a GT of another class overlaps it by >= ``near``;
* ``background``: nothing overlaps it by ``near`` or more. On a data set with unlabelled
  objects (BCCD's red cells) these are often correct detections that the labels omit.

Missed GTs (no detection of their class above the threshold) are counted as ``missed``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .voc import pairwise_iou

BINS = ("tp", "duplicate", "localisation", "confusion", "background", "missed")


def error_breakdown(gts: Sequence[dict], preds: Sequence[dict], classes: Sequence[str], conf: float = 0.5,
                    iou_thr: float = 0.5, near: float = 0.1, iou_mode: str = "voc") -> dict[str, dict[str, int]]:
    """``{class name: {bin: count}}`` for the detections scoring >= ``conf`` (bins in :data:`BINS`;
    difficult GTs are neither matched nor missed)."""
    out = {name: dict.fromkeys(BINS, 0) for name in classes}
    for gt, pred in zip(gts, preds):
        g_boxes = np.asarray(gt["boxes"], np.float64).reshape(-1, 4)
        g_labels = np.asarray(gt["labels"], np.int64).reshape(-1)
        g_diff = np.asarray(gt.get("difficult", np.zeros(len(g_labels))), bool).reshape(-1)
        scores = np.asarray(pred["scores"], np.float64).reshape(-1)
        keep = scores >= conf
        order = np.argsort(-scores[keep], kind="stable")
        d_boxes = np.asarray(pred["boxes"], np.float64).reshape(-1, 4)[keep][order]
        d_labels = np.asarray(pred["labels"], np.int64).reshape(-1)[keep][order]
        iou = pairwise_iou(d_boxes, g_boxes, iou_mode) if len(d_boxes) and len(g_boxes) else np.zeros((len(d_boxes), len(g_boxes)))
        claimed = np.zeros(len(g_boxes), bool)
        for i, lab in enumerate(d_labels):
            row = out[classes[lab - 1]]
            same = g_labels == lab
            best = int(np.argmax(np.where(same, iou[i], -1))) if same.any() else -1
            best_iou = iou[i, best] if best >= 0 else 0.0
            if best_iou >= iou_thr:
                if g_diff[best]:
                    continue  # the devkit ignores it
                row["duplicate" if claimed[best] else "tp"] += 1
                claimed[best] = True
            elif best_iou >= near:
                row["localisation"] += 1
            elif len(g_boxes) and (iou[i][~same] >= near).any():
                row["confusion"] += 1
            else:
                row["background"] += 1
        for j in np.flatnonzero(~claimed & ~g_diff):
            out[classes[g_labels[j] - 1]]["missed"] += 1
    return out
