"""Semantic segmentation metrics from one accumulated confusion matrix.

Every pixel votes once into ``matrix[true_class, predicted_class]`` (rows = ground truth).
From the K×K matrix ``M``, with ``TP_c = M[c, c]``, ``GT_c = sum_j M[c, j]`` (pixels of class
c) and ``P_c = sum_i M[i, c]`` (pixels predicted c):

* IoU_c = TP_c / (GT_c + P_c - TP_c)   (intersection over union of the two pixel sets);
* mIoU = mean of IoU_c over the classes that appear in the ground truth *or* the prediction;
* pixel accuracy = sum_c TP_c / sum_c GT_c;
* mean (class) accuracy = mean of TP_c / GT_c over classes present in the ground truth;
* frequency-weighted IoU = sum_c (GT_c / total) * IoU_c.

A class absent from both ground truth and prediction has 0/0 IoU: it is reported as ``nan``
in ``per_class_iou`` and left out of ``mIoU`` (as torchmetrics / mmsegmentation's
``nanmean``), so evaluating a subset that lacks a rare class does not change its score.
A class absent from the ground truth but predicted has IoU 0 and counts.

Pixels whose ground truth is ``ignore_index`` (255 by default: CamVid "void", VOC borders)
are not counted. Because the matrix is a plain sum, per-rank matrices add up: the engine
all-reduces ``.matrix`` (or calls :meth:`ConfusionMatrix.merge`) before ``compute``.
"""

from __future__ import annotations

import numpy as np

from .classification import confusion_matrix


class ConfusionMatrix:
    """Accumulating K×K confusion matrix for segmentation (or any per-element labelling).

    >>> cm = ConfusionMatrix(3)
    >>> cm.update(pred_mask, gt_mask)          # torch or numpy, any matching shape
    >>> cm.compute()["mIoU"]
    """

    def __init__(self, num_classes: int, ignore_index: int | None = 255):
        if int(num_classes) < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes = int(num_classes)
        self.ignore_index = ignore_index
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, pred, target) -> "ConfusionMatrix":
        """Add the pixels of one prediction/target pair (same shape; class indices)."""
        if tuple(np.shape(pred)) != tuple(np.shape(target)):
            raise ValueError(f"prediction shape {tuple(np.shape(pred))} != target shape {tuple(np.shape(target))}")
        self.matrix += confusion_matrix(pred, target, self.num_classes, self.ignore_index)
        return self

    def merge(self, other: "ConfusionMatrix") -> "ConfusionMatrix":
        """Add another matrix (e.g. another rank's) into this one."""
        if other.num_classes != self.num_classes:
            raise ValueError(f"cannot merge {other.num_classes}-class matrix into {self.num_classes}-class one")
        self.matrix += other.matrix
        return self

    def __add__(self, other: "ConfusionMatrix") -> "ConfusionMatrix":
        out = ConfusionMatrix(self.num_classes, self.ignore_index)
        out.matrix = self.matrix.copy()
        return out.merge(other)

    def reset(self) -> None:
        self.matrix[:] = 0

    def compute(self) -> dict:
        """``{"mIoU", "per_class_iou" (list, nan for absent classes), "pixel_acc", "mean_acc", "fw_iou"}``."""
        return metrics_from_matrix(self.matrix)


def metrics_from_matrix(matrix) -> dict:
    """The metrics of the module docstring from a K×K matrix (rows = ground truth)."""
    m = np.asarray(matrix, dtype=np.float64)
    tp = np.diag(m)
    gt = m.sum(1)
    pr = m.sum(0)
    union = gt + pr - tp
    total = gt.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, tp / np.where(union > 0, union, 1), np.nan)
        acc = np.where(gt > 0, tp / np.where(gt > 0, gt, 1), np.nan)
    nanmean = lambda v: float(np.mean(v[~np.isnan(v)])) if (~np.isnan(v)).any() else float("nan")  # noqa: E731
    return {
        "mIoU": nanmean(iou),
        "per_class_iou": [float(v) for v in iou],
        "pixel_acc": float(tp.sum() / total) if total else float("nan"),
        "mean_acc": nanmean(acc),
        "fw_iou": float(np.nansum(gt / total * iou)) if total else float("nan"),
    }
