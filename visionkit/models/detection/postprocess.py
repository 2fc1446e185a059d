"""Detection post-processing shared by every detector: score threshold, class filter, per-class
NMS (torchvision.ops.batched_nms), clipping to the image and a cap on detections per image.

The operating point is a per-call argument. Every detector's eval-mode forward takes

    model(images, conf=None, iou=None, max_det=None, classes=None) -> list[dict]

and keeps its config-time values (the builder's ``score_thresh``, ``nms_thresh``, ``max_det``)
only as defaults, in ``model.thresholds``: a call never changes the model, so nothing sticks
between calls and one model serves concurrent callers with different thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Sequence

import torch
from torchvision.ops import batched_nms, clip_boxes_to_image, remove_small_boxes


@dataclass(frozen=True)
class Thresholds:
    """A detector's operating point: keep detections scoring above ``conf``, suppress boxes of
    the same class overlapping a better one by more than ``iou``, keep at most ``max_det`` per
    image, and (``classes``, labels 1..K) only those classes; ``None`` keeps every class."""

    conf: float = 0.05
    iou: float = 0.5
    max_det: int = 100
    classes: Optional[tuple[int, ...]] = None

    def override(self, conf: float | None = None, iou: float | None = None, max_det: int | None = None,
                 classes: Sequence[int] | None = None) -> "Thresholds":
        """These thresholds with the given values in place of the defaults (``None`` keeps one)."""
        given = {"conf": conf, "iou": iou, "max_det": max_det, "classes": None if classes is None else tuple(int(c) for c in classes)}
        return replace(self, **{k: v for k, v in given.items() if v is not None})

    def as_kwargs(self) -> dict:
        """``{"conf", "iou", "max_det", "classes"}``, the keyword arguments of a detector's call."""
        return {"conf": self.conf, "iou": self.iou, "max_det": self.max_det, "classes": self.classes}


def keep_classes(labels: torch.Tensor, classes: Sequence[int] | None) -> torch.Tensor:
    """Boolean mask of the ``labels`` in ``classes`` (all True when ``classes`` is None)."""
    if classes is None:
        return torch.ones_like(labels, dtype=torch.bool)
    return torch.isin(labels, torch.as_tensor(list(classes), dtype=labels.dtype, device=labels.device))


def select_detections(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    labels: torch.Tensor,
    image_size: tuple[int, int],
    thresholds: Thresholds = Thresholds(),
    min_size: float = 1e-2,
) -> dict[str, torch.Tensor]:
    """Keep the best non-overlapping boxes of each class.

    ``boxes`` (N×4 xyxy pixels), ``scores`` (N), ``labels`` (N, 1..K) are candidates of one
    image; the result is the ``{"boxes", "scores", "labels"}`` dict of the detection contract,
    sorted by descending score. The order of the steps is torchvision's ``RoIHeads``' (clip,
    score threshold, tiny boxes, per-class NMS, cap); the class filter comes before the cap.
    """
    boxes = clip_boxes_to_image(boxes, image_size)
    keep = (scores > thresholds.conf) & keep_classes(labels, thresholds.classes)
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    keep = remove_small_boxes(boxes, min_size)
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    keep = batched_nms(boxes, scores, labels, thresholds.iou)[: thresholds.max_det]
    return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}


def detections_per_image(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    counts: Sequence[int],
    image_sizes: Sequence[tuple[int, int]],
    thresholds: Thresholds = Thresholds(),
) -> list[dict[str, torch.Tensor]]:
    """Per-class candidates of a batch -> the detections of each image. ``boxes`` (R×(K+1)×4)
    and ``scores`` (R×(K+1), softmax over K classes and background, column 0) hold every RoI of
    the batch, ``counts[i]`` of them from image ``i``; background is dropped, then
    :func:`select_detections` runs on each image's R_i·K candidates."""
    results = []
    for b, s, size in zip(boxes.split(list(counts)), scores.split(list(counts)), image_sizes):
        b, s = b[:, 1:], s[:, 1:]  # drop background
        n, K = s.shape
        labels = torch.arange(1, K + 1, device=s.device).expand(n, K)
        results.append(select_detections(b.reshape(-1, 4), s.reshape(-1), labels.reshape(-1), size, thresholds))
    return results
