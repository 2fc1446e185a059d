"""Matching reference boxes to ground truth, and sampling a balanced mini-batch of them.

Both stages of Faster R-CNN train on labelled reference boxes:

* **RPN** (anchors): IoU ≥ 0.7 with some GT -> positive; IoU < 0.3 with every GT ->
  negative; in between -> ignored. Each GT also claims the anchor(s) with its highest IoU, so
  that every object has at least one positive anchor ("low-quality" matches).
* **Detection head** (proposals): IoU ≥ 0.5 -> foreground (that GT's class); below ->
  background (Fast R-CNN used [0.1, 0.5); Faster R-CNN's implementations use [0, 0.5)).

Then a fixed number of references per image is sampled with at most a given fraction of
positives (RPN: 256 anchors, ½ positive; head: 512 RoIs, ¼ foreground — the paper's 128 RoIs
× 25% per image is the same rule at a smaller batch).
"""

from __future__ import annotations

import torch
from torchvision.ops import box_iou

BELOW_LOW = -1  # negative / background
BETWEEN = -2  # ignored


class Matcher:
    def __init__(self, high: float, low: float, allow_low_quality: bool = False):
        if low > high:
            raise ValueError("the low threshold must not exceed the high one")
        self.high, self.low, self.allow_low_quality = high, low, allow_low_quality

    def __call__(self, gt_boxes: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """For each of ``boxes``, the index of its matched GT, or BELOW_LOW / BETWEEN."""
        if gt_boxes.numel() == 0:
            return torch.full((boxes.shape[0],), BELOW_LOW, dtype=torch.int64, device=boxes.device)
        iou = box_iou(gt_boxes, boxes)  # G×N
        best_iou, matches = iou.max(dim=0)
        original = matches.clone()
        matches[best_iou < self.low] = BELOW_LOW
        matches[(best_iou >= self.low) & (best_iou < self.high)] = BETWEEN
        if self.allow_low_quality:
            best_for_gt = iou.max(dim=1, keepdim=True).values  # G×1
            # every box that ties for the best IoU of some GT gets its original match back
            claimed = torch.nonzero((iou == best_for_gt) & (best_for_gt > 0), as_tuple=True)[1]
            matches[claimed] = original[claimed]
        return matches


def sample_balanced(
    labels: torch.Tensor, batch_size: int, positive_fraction: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of sampled positives (``labels >= 1``) and negatives (``labels == 0``);
    ``labels == -1`` are ignored. At most ``positive_fraction · batch_size`` positives; the
    negatives fill the rest."""
    pos = torch.nonzero(labels >= 1).flatten()
    neg = torch.nonzero(labels == 0).flatten()
    n_pos = min(pos.numel(), int(batch_size * positive_fraction))
    n_neg = min(neg.numel(), batch_size - n_pos)
    return _pick(pos, n_pos, generator), _pick(neg, n_neg, generator)


def _pick(idx: torch.Tensor, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` of ``idx`` at random (the permutation is drawn on the CPU, so runs are
    reproducible on any device)."""
    return idx[torch.randperm(idx.numel(), generator=generator)[:n].to(idx.device)]
