"""Detection post-processing shared by every detector: score threshold, per-class NMS
(torchvision.ops.batched_nms), clipping to the image and a cap on detections per image."""

from __future__ import annotations

import torch
from torchvision.ops import batched_nms, clip_boxes_to_image, remove_small_boxes


def select_detections(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    labels: torch.Tensor,
    image_size: tuple[int, int],
    score_thresh: float = 0.05,
    nms_thresh: float = 0.5,
    max_det: int = 100,
    min_size: float = 1e-2,
) -> dict[str, torch.Tensor]:
    """Keep the best non-overlapping boxes of each class.

    ``boxes`` (N×4 xyxy pixels), ``scores`` (N), ``labels`` (N, 1..K) are candidates of one
    image; the result is the ``{"boxes", "scores", "labels"}`` dict of the detection contract,
    sorted by descending score.
    """
    boxes = clip_boxes_to_image(boxes, image_size)
    keep = scores > score_thresh
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    keep = remove_small_boxes(boxes, min_size)
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    keep = batched_nms(boxes, scores, labels, nms_thresh)[:max_det]
    return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}
