"""Generated shapes (``format: synthetic``): a data set that needs no files.

Each image is dark noise with a few filled shapes -- class ``k`` is drawn as shape ``k`` in
colour ``k`` (rectangle, ellipse, triangle, ... ) -- so a detector or a segmenter can learn it
in a few hundred steps. It exists for smoke tests, tutorials and end-to-end runs on machines
without the real data. Images are generated from ``(seed, split, index)``, so every split is
different and every run the same. ``root`` is ignored.

Detection targets follow the reader contract (boxes xyxy, labels 1..K); segmentation masks
hold 0 for background and ``k`` for class ``k`` (``classes[0] == "background"``).
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np

from ..errors import DataError
from ..registry import DATASETS
from .base import VisionDataset

SHAPES = ["rectangle", "ellipse", "triangle", "cross", "diamond", "ring"]
COLORS = [(230, 60, 60), (60, 200, 60), (70, 90, 240), (230, 200, 40), (200, 60, 220), (40, 210, 220)]


def _draw(canvas: np.ndarray, k: int, box, value) -> None:
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    shape = SHAPES[k % len(SHAPES)]
    if shape == "rectangle":
        cv2.rectangle(canvas, (x1, y1), (x2 - 1, y2 - 1), value, -1)
    elif shape == "ellipse":
        cv2.ellipse(canvas, (cx, cy), ((x2 - x1) // 2, (y2 - y1) // 2), 0, 0, 360, value, -1)
    elif shape == "triangle":
        cv2.fillPoly(canvas, [np.array([[cx, y1], [x1, y2 - 1], [x2 - 1, y2 - 1]], np.int32)], value)
    elif shape == "cross":
        tx, ty = max(1, (x2 - x1) // 6), max(1, (y2 - y1) // 6)
        cv2.rectangle(canvas, (x1, cy - ty), (x2 - 1, cy + ty), value, -1)
        cv2.rectangle(canvas, (cx - tx, y1), (cx + tx, y2 - 1), value, -1)
    elif shape == "diamond":
        cv2.fillPoly(canvas, [np.array([[cx, y1], [x2 - 1, cy], [cx, y2 - 1], [x1, cy]], np.int32)], value)
    else:
        cv2.ellipse(canvas, (cx, cy), ((x2 - x1) // 2, (y2 - y1) // 2), 0, 0, 360, value, max(2, (x2 - x1) // 6))


def _tight_box(mask: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


class SyntheticShapes(VisionDataset):
    """Generated detection or segmentation images. See the module docstring."""

    def __init__(self, split: str = "train", task: str = "detection", num_images: int = 32, size: int = 64,
                 num_classes: int = 3, max_objects: int = 3, seed: int = 0):
        super().__init__("synthetic", split, False)
        if task not in ("detection", "segmentation"):
            raise DataError(f"synthetic: task must be detection or segmentation, got {task!r}")
        if not 1 <= num_classes <= len(SHAPES):
            raise DataError(f"synthetic: num_classes must be 1..{len(SHAPES)}, got {num_classes}")
        if size < 16:
            raise DataError(f"synthetic: size must be at least 16, got {size}")
        self.task, self.size, self.max_objects = task, size, max(1, max_objects)
        self.num_classes = num_classes
        self.seed = (seed * 1_000_003 + zlib.crc32(split.encode())) % 2**32
        names = SHAPES[:num_classes]
        self.classes = ["background", *names] if task == "segmentation" else list(names)
        self.ignore_index = 255
        self.items = list(range(num_images))

    def raw(self, i: int):
        rng = np.random.default_rng([self.seed, self.items[i]])
        s = self.size
        image = rng.integers(0, 50, (s, s, 3), dtype=np.uint8)
        mask = np.zeros((s, s), np.int64)
        boxes, labels = [], []
        for _ in range(int(rng.integers(1, self.max_objects + 1))):
            k = int(rng.integers(0, self.num_classes))
            w, h = (int(v) for v in rng.integers(s // 5, s // 2, 2))
            x1, y1 = int(rng.integers(0, s - w)), int(rng.integers(0, s - h))
            layer = np.zeros((s, s), np.uint8)
            _draw(layer, k, (x1, y1, x1 + w, y1 + h), 1)
            on = layer > 0
            if not on.any():
                continue
            image[on] = COLORS[k]
            mask[on] = k + 1
            boxes.append(_tight_box(on)), labels.append(k + 1)
        target = {"image_id": i, "path": f"synthetic/{self.split}/{i}", "orig_size": (s, s)}
        if self.task == "segmentation":
            target["masks"] = mask
        else:
            n = len(labels)
            target.update(boxes=np.asarray(boxes, np.float32).reshape(n, 4), labels=np.asarray(labels, np.int64),
                          difficult=np.zeros(n, bool), iscrowd=np.zeros(n, bool))
        return image, target


@DATASETS.register("synthetic", task="detection")
def synthetic(root: str = "", split: str = "train", task: str = "detection", num_images: int = 32, size: int = 64,
              num_classes: int = 3, max_objects: int = 3, seed: int = 0) -> SyntheticShapes:
    """Generated shapes, no files (root ignored). Options: task (detection | segmentation),
    num_images, size (pixels, square), num_classes (1..6), max_objects per image, seed."""
    return SyntheticShapes(split, task, num_images, size, num_classes, max_objects, seed)
