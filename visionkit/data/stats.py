"""Box statistics of a detection split, as the network sees it (after the resize).

``box_stats(dataset, img_size, resize)`` reads every box of a split (from the reader's index
when it has one, so no image is decoded; else from ``raw(i)``), maps it through the same
resize plan as the training transform (``transforms.plan_resize``: letterbox, stretch, ...)
and keeps, per box, its width and height in input pixels, its class, and per image the
number of boxes. :class:`BoxStats` summarises them: per class the count and the 10th, 50th
and 90th percentiles of the relative size ``sqrt(w*h) / sqrt(H*W)`` (``H×W`` the network
input), and the mean number of boxes per image.

The models' recipes read these numbers to fit themselves to the data
(``models/detection/autofit.py``: YOLOv1's grid, Faster R-CNN's anchors), and the engine's
not-learning warning uses them to name the likely cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .transforms import parse_size, plan_resize

MAX_DECODED = 2000  # images read through raw(i) (no index) at most; an even sample of the split beyond that


@dataclass
class BoxStats:
    """Every box of a split in network-input pixels (``wh``: N×2), its class (``labels``, 1..K),
    the boxes per image (``per_image``) and the input size ``(H, W)``."""

    wh: np.ndarray
    labels: np.ndarray
    per_image: np.ndarray
    input_hw: tuple[int, int]
    classes: tuple[str, ...] = ()

    @property
    def rel_size(self) -> np.ndarray:
        """``sqrt(w*h) / sqrt(H*W)`` per box: 1 is a box the size of the input."""
        H, W = self.input_hw
        return np.sqrt(self.wh[:, 0] * self.wh[:, 1] / float(H * W))

    @property
    def num_boxes(self) -> int:
        return int(len(self.labels))

    def per_class(self) -> dict[int, dict[str, float]]:
        """``{label: {count, p10, median, p90}}`` of the relative sizes, for classes with boxes."""
        rel, out = self.rel_size, {}
        for k in np.unique(self.labels).tolist():
            r = rel[self.labels == k]
            p10, p50, p90 = np.percentile(r, [10, 50, 90])
            out[int(k)] = {"count": int(len(r)), "p10": float(p10), "median": float(p50), "p90": float(p90)}
        return out

    def smallest_class_median(self, min_count: int = 5) -> float | None:
        """The median relative size of the class whose typical box is smallest (classes with at
        least ``min_count`` boxes; all classes when none has that many); None without boxes."""
        per = self.per_class()
        if not per:
            return None
        enough = [v["median"] for v in per.values() if v["count"] >= min_count]
        return min(enough or [v["median"] for v in per.values()])

    def name(self, label: int) -> str:
        return self.classes[label - 1] if 0 < label <= len(self.classes) else str(label)

    def summary(self) -> str:
        """One line: boxes, boxes per image, and each class's median size (p10-p90)."""
        H, W = self.input_hw
        parts = [f"{self.name(k)} {v['median']:.2f} ({v['p10']:.2f}-{v['p90']:.2f})" for k, v in self.per_class().items()]
        mean = float(self.per_image.mean()) if len(self.per_image) else 0.0
        return (f"{self.num_boxes} boxes in {len(self.per_image)} images ({mean:.1f}/image) at {W}x{H}; "
                f"size/input, median (p10-p90): " + (", ".join(parts) or "none"))


def _items(dataset) -> list | None:
    """The reader's index of ``DetItem``s (boxes and sizes without decoding), if it has one."""
    items = getattr(dataset, "items", None)
    if items and all(hasattr(it, "boxes") and hasattr(it, "size") for it in items[:1]):
        return items
    return None


def _annotations(dataset) -> list[tuple[tuple[int, int] | None, np.ndarray, np.ndarray, Any]]:
    """``(orig (h, w) or None, boxes, labels, index)`` per image of ``dataset``."""
    base, idx = dataset, None
    if hasattr(dataset, "dataset") and hasattr(dataset, "indices"):  # torch Subset
        base, idx = dataset.dataset, list(dataset.indices)
    items = _items(base)
    indices = idx if idx is not None else list(range(len(base)))
    if items is not None:
        return [(items[i].size, items[i].boxes, items[i].labels, i) for i in indices]
    if len(indices) > MAX_DECODED:
        indices = [indices[j] for j in np.linspace(0, len(indices) - 1, MAX_DECODED).round().astype(int)]
    out = []
    for i in indices:
        image, t = base.raw(i)
        out.append((tuple(image.shape[:2]), np.asarray(t["boxes"], np.float32).reshape(-1, 4),
                    np.asarray(t["labels"], np.int64).reshape(-1), i))
    return out


def _image_size(base, i) -> tuple[int, int]:
    image, _ = base.raw(i)
    return tuple(image.shape[:2])


def box_stats(dataset, img_size: Any, resize: str = "letterbox") -> BoxStats:
    """The :class:`BoxStats` of a detection split at the network input ``img_size`` (an int or
    ``(h, w)``; None keeps each image's size) after ``resize`` (the data section's mode)."""
    base = dataset.dataset if hasattr(dataset, "dataset") and hasattr(dataset, "indices") else dataset
    wh, labels, per_image, out_hw = [], [], [], None
    for size, boxes, labs, i in _annotations(dataset):
        h, w = size if size else _image_size(base, i)
        nh, nw, oh, ow, _, _ = plan_resize(h, w, img_size, resize)
        out_hw = out_hw or (oh, ow)
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        bw, bh = (b[:, 2] - b[:, 0]) * nw / w, (b[:, 3] - b[:, 1]) * nh / h
        keep = (bw > 0) & (bh > 0)
        wh.append(np.stack([bw[keep], bh[keep]], 1))
        labels.append(np.asarray(labs, np.int64).reshape(-1)[keep])
        per_image.append(int(keep.sum()))
    parsed = parse_size(img_size)
    hw = parsed if parsed is not None else (out_hw or (1, 1))
    return BoxStats(np.concatenate(wh) if wh else np.zeros((0, 2)), np.concatenate(labels) if labels else np.zeros(0, np.int64),
                    np.asarray(per_image, np.int64), (int(hw[0]), int(hw[1])), tuple(getattr(base, "classes", ()) or ()))
