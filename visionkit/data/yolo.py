"""YOLO txt reader (``format: yolo``), the Ultralytics/Darknet layout::

    root/images/<split>/<name>.jpg
    root/labels/<split>/<name>.txt     one line per box: "class cx cy w h"
    root/classes.txt                   class names, one per line (or a data.yaml with names:)

Box coordinates are *normalised* by the image width/height and give the box centre and size:
``x1 = (cx - w/2) * W``. The class is a 0-based index into the names list, so label =
index + 1 (0 stays background). An image without a label file, or with an empty one, is a
negative. Each line is checked: a wrong number of fields, a non-number, a class index outside
the names list are errors naming the file and line (that box is skipped); coordinates outside
0..1 are clipped and counted.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import DataError
from ..registry import DATASETS
from .base import DetectionDataset, DetItem
from .image import IMAGE_EXTS, image_size
from .validate import BadFile, Issues, clean_boxes, resolve
from .voc import read_class_file


def parse_label_file(path: Path, num_classes: int, issues: Issues):
    """-> (class indices 0-based, normalised cx cy w h rows, line numbers) of the valid lines."""
    cls, rows, lines = [], [], []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        issues.error("malformed", path, "not a UTF-8 text file; labels skipped")
        return cls, rows, lines
    for ln, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 5:
            issues.error("malformed", path, f"expected 5 values 'class cx cy w h', got {len(parts)}; box skipped", ln)
            continue
        try:
            c = int(float(parts[0]))
            vals = [float(v) for v in parts[1:]]
            if c != float(parts[0]) or not all(math.isfinite(v) for v in vals):
                raise ValueError
        except (ValueError, OverflowError):  # OverflowError: a class of inf or 1e400
            issues.error("malformed", path, f"not numbers: {line.strip()!r}; box skipped", ln)
            continue
        if not 0 <= c < num_classes:
            issues.error("unknown_class", path, f"class index {c} outside 0..{num_classes - 1}; box skipped", ln)
            continue
        cls.append(c), rows.append(vals), lines.append(ln)
    return cls, rows, lines


def cxcywh_norm_to_xyxy(rows, w: int, h: int) -> np.ndarray:
    r = np.asarray(rows, np.float32).reshape(-1, 4)
    out = np.empty_like(r)
    out[:, 0] = (r[:, 0] - r[:, 2] / 2) * w
    out[:, 1] = (r[:, 1] - r[:, 3] / 2) * h
    out[:, 2] = (r[:, 0] + r[:, 2] / 2) * w
    out[:, 3] = (r[:, 1] + r[:, 3] / 2) * h
    return out


class YOLODetection(DetectionDataset):
    """YOLO txt split. See the module docstring."""

    def __init__(self, root, split: str = "train", classes: Optional[list[str]] = None, strict: bool = False,
                 images: str = "images/{split}", labels: str = "labels/{split}", names: str = "classes.txt"):
        super().__init__(root, split, strict)
        root = Path(root)
        img_dir, lbl_dir = resolve(root, images.format(split=split)), resolve(root, labels.format(split=split))
        if classes:
            self.classes = list(classes)
        else:
            names_path = resolve(root, names)
            if not names_path.is_file():
                raise DataError(f"{names_path}: YOLO class names not found; set data.classes or options.names")
            self.classes = read_class_file(names_path)
        if not img_dir.is_dir():
            raise DataError(f"{img_dir}: image folder not found")
        files = sorted(p for p in img_dir.rglob("*") if p.suffix.lower() in IMAGE_EXTS)
        issues = self.issues
        for n, path in enumerate(files):
            if path.stat().st_size == 0:
                issues.error("empty_image", path, "empty file (0 bytes); skipped")
                continue
            try:
                h, w = image_size(path)
            except BadFile as e:
                e.record(issues, "; skipped")
                continue
            label_path = (lbl_dir / path.relative_to(img_dir)).with_suffix(".txt")
            if label_path.is_file():
                cls, rows, lines = parse_label_file(label_path, len(self.classes), issues)
            else:
                cls, rows, lines = [], [], []
            b, keep = clean_boxes(cxcywh_norm_to_xyxy(rows, w, h), w, h, issues, label_path, lines)
            item = DetItem(path, n, (h, w), b, np.asarray(cls, np.int64) + 1).subset(keep)
            if len(item.labels) == 0:
                issues.info("no_labels", label_path, "no boxes (kept as a negative)")
            self.items.append(item)


@DATASETS.register("yolo", task="detection")
def yolo(root: str, split: str = "train", classes: Optional[list[str]] = None, strict: bool = False,
         images: str = "images/{split}", labels: str = "labels/{split}", names: str = "classes.txt") -> YOLODetection:
    """YOLO txt labels. Options: images/labels folders (``{split}`` replaced) and names (class
    names file, .txt one per line or an Ultralytics .yaml), all relative to root."""
    return YOLODetection(root, split, classes, strict, images, labels, names)
