"""Flip test-time augmentation for any detector of the detection contract.

    image ──► detector ──────────────────────────┐
      └─ flip ─► detector ─► flip boxes back ─────┴─► per-class NMS (+ box voting) ─► detections

Each view is a mirror image the model saw during training (``data.augment.hflip``/``vflip``),
so its detections are as good as the original's but its errors differ. Merging the views with
per-class NMS keeps the best-scoring box of each object; *box voting* (Gidaris & Komodakis,
"Object detection via a multi-region & semantic segmentation-aware CNN model", 2015) then
replaces each kept box by the score-weighted mean of the boxes of its class that overlap it by
at least the NMS threshold, which averages out localisation noise. The cost is one forward pass
per view. Training passes straight through to the wrapped model.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torchvision.ops import batched_nms, box_iou

from ...errors import ConfigError
from ..common import Images
from .postprocess import Thresholds

FLIPS = {"h": (-1,), "v": (-2,), "hv": (-2, -1)}


def flip_images(images: Images, dims: tuple[int, ...]) -> Images:
    """Mirror a B×C×H×W tensor or a list of C×H×W tensors along ``dims`` (-1 = x, -2 = y)."""
    if isinstance(images, torch.Tensor):
        return images.flip(dims)
    return [img.flip(dims) for img in images]


def image_sizes(images: Images) -> list[tuple[int, int]]:
    if isinstance(images, torch.Tensor):
        h, w = images.shape[-2:]
        return [(int(h), int(w))] * (images.shape[0] if images.dim() == 4 else 1)
    return [(int(img.shape[-2]), int(img.shape[-1])) for img in images]


def unflip_boxes(boxes: torch.Tensor, size: tuple[int, int], dims: tuple[int, ...]) -> torch.Tensor:
    """Map xyxy boxes found in the flipped image back to the original image of ``size`` (h, w)."""
    h, w = size
    out = boxes.clone()
    if -1 in dims:
        out[:, 0], out[:, 2] = w - boxes[:, 2], w - boxes[:, 0]
    if -2 in dims:
        out[:, 1], out[:, 3] = h - boxes[:, 3], h - boxes[:, 1]
    return out


def merge_detections(views: Sequence[dict], nms_thresh: float = 0.5, max_det: int = 100, vote: bool = True) -> dict:
    """Merge one image's detections from several views: per-class NMS, then (``vote``) each
    kept box becomes the score-weighted mean of its class's boxes with IoU ≥ ``nms_thresh``."""
    boxes = torch.cat([v["boxes"] for v in views])
    scores = torch.cat([v["scores"] for v in views])
    labels = torch.cat([v["labels"] for v in views])
    keep = batched_nms(boxes, scores, labels, nms_thresh)[:max_det]
    kept = boxes[keep]
    if vote and len(keep):
        same = labels[keep][:, None] == labels[None, :]
        w = (box_iou(kept, boxes) >= nms_thresh) & same
        w = w.to(scores.dtype) * scores[None, :]
        kept = (w @ boxes) / w.sum(1, keepdim=True)
    return {"boxes": kept, "scores": scores[keep], "labels": labels[keep]}


def training_flips(augment) -> list[str]:
    """The flip views a model was trained to see (``cfg.data.augment``); ``["h"]`` when none."""
    h, v = getattr(augment, "hflip", 0) > 0, getattr(augment, "vflip", 0) > 0
    return ["h", "v", "hv"] if h and v else ["v"] if v else ["h"]


class FlipTTA(nn.Module):
    """``FlipTTA(detector, flips=("h",))(images, conf=, iou=, max_det=, classes=)`` -> the
    detector's ``list[dict]``, with the views ``""`` (the image itself) + ``flips`` (``h``,
    ``v``, ``hv``) merged per image. Each view is the detector's call with this call's
    thresholds; the merge uses this call's ``iou``/``max_det``, by default ``nms_thresh``/
    ``max_det`` given here, else the detector's own (``detector.thresholds``)."""

    task = "detection"

    def __init__(self, model: nn.Module, flips: Sequence[str] = ("h",), nms_thresh: float | None = None,
                 max_det: int | None = None, vote: bool = True):
        super().__init__()
        bad = [f for f in flips if f not in FLIPS]
        if bad:
            raise ConfigError(f"eval.tta: unknown flip {bad[0]!r}; valid: {', '.join(FLIPS)}")
        self.model, self.flips, self.vote = model, list(flips), vote
        self.thresholds = getattr(model, "thresholds", Thresholds()).override(iou=nms_thresh, max_det=max_det)

    def forward(self, images: Images, targets: list[dict] | None = None, *, conf: float | None = None,
                iou: float | None = None, max_det: int | None = None, classes: list[int] | None = None):
        if self.training:
            return self.model(images, targets)
        per_call = {"conf": conf, "iou": iou, "max_det": max_det, "classes": classes}
        merge = self.thresholds.override(conf, iou, max_det, classes)
        sizes = image_sizes(images)
        views = [self.model(images, **per_call)]
        for f in self.flips:
            dims = FLIPS[f]
            out = self.model(flip_images(images, dims), **per_call)
            views.append([{**d, "boxes": unflip_boxes(d["boxes"], s, dims)} for d, s in zip(out, sizes)])
        return [merge_detections(per_image, merge.iou, merge.max_det, self.vote) for per_image in zip(*views)]
