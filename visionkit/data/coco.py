"""COCO instances reader (``format: coco``).

Layout (COCO 2017, coco128, what CVAT/Label Studio export)::

    root/annotations/instances_<split>.json
    root/<split>/<file_name>.jpg

The JSON has ``images`` (id, file_name, width, height), ``categories`` (id, name) and
``annotations`` (image_id, category_id, ``bbox`` = [x, y, width, height] in pixels, iscrowd,
optional polygon/RLE ``segmentation``).

COCO category ids are *not contiguous* (1..90 with gaps for the 80 classes), so the reader
maps them to labels ``1..K`` in increasing id order, and keeps the way back:
``dataset.cat_ids[label] -> category_id`` (and ``dataset.label_of[category_id] -> label``), so
that predictions can be written with the data set's own ids and scored by pycocotools.

``iscrowd=1`` regions (a crowd of people drawn as one region) are kept with
``target["iscrowd"] = True``: COCO's metric ignores detections matched to them, and training
code usually skips them as positives. Images without any annotation are kept as negatives.
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import DataError
from ..registry import DATASETS
from .base import DetectionDataset, DetItem
from .image import image_size
from .validate import BadFile, clean_boxes, inside, resolve


def read_json(path) -> object:
    """Load a JSON file; a syntax error is a :class:`BadFile` naming the file, line and column."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such annotation file")
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except json.JSONDecodeError as e:
        raise BadFile(path, f"malformed JSON: {e.msg} (column {e.colno})", e.lineno) from None
    except UnicodeDecodeError:
        raise BadFile(path, "not a UTF-8 JSON file") from None


def _int_id(entry) -> int | None:
    try:
        return int(entry["id"])
    except (KeyError, TypeError, ValueError):
        return None


def _require(data, key: str, path) -> list:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, list):
        raise BadFile(path, f"not a COCO file: top-level {key!r} list missing")
    return value


def _polygon_masks(segs: list, h: int, w: int) -> np.ndarray:
    """Decode COCO polygons/RLEs to N×H×W uint8 masks with pycocotools."""
    from pycocotools import mask as mask_utils

    out = np.zeros((len(segs), h, w), np.uint8)
    for i, seg in enumerate(segs):
        if not seg:
            continue
        if isinstance(seg, list):
            rle = mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
        elif isinstance(seg.get("counts"), list):
            rle = mask_utils.frPyObjects(seg, h, w)
        else:
            rle = seg
        with warnings.catch_warnings():  # pycocotools' NumPy 2 copy-keyword notice, not ours to fix
            warnings.simplefilter("ignore", DeprecationWarning)
            m = mask_utils.decode(rle)
        if m.shape == (h, w):
            out[i] = m
    return out


class COCODetection(DetectionDataset):
    """COCO instances JSON split. See the module docstring."""

    def __init__(self, root, split: str = "train2017", classes: Optional[list[str]] = None, strict: bool = False,
                 ann_file: str = "annotations/instances_{split}.json", images: str = "{split}",
                 masks: bool = False, skip_crowd: bool = False):
        super().__init__(root, split, strict)
        root = Path(root)
        self.ann_file = resolve(root, ann_file.format(split=split))
        img_dir = resolve(root, images.format(split=split))
        data = read_json(self.ann_file)
        path = self.ann_file
        images_, anns, cats = (_require(data, k, path) for k in ("images", "annotations", "categories"))
        try:
            cats = sorted(cats, key=lambda c: int(c["id"]))
            names = {int(c["id"]): str(c["name"]) for c in cats}
        except (KeyError, TypeError, ValueError):
            raise BadFile(path, "a category lacks an integer 'id' or a 'name'") from None
        if classes:  # the user's subset/order; other categories are reported and skipped
            by_name = {v: k for k, v in names.items()}
            missing = [c for c in classes if c not in by_name]
            if missing:
                raise DataError(f"{path}: classes {missing} are not categories of this file")
            self.classes = list(classes)
            self.cat_ids = {i + 1: by_name[c] for i, c in enumerate(classes)}
        else:
            self.classes = [names[k] for k in names]
            self.cat_ids = {i + 1: k for i, k in enumerate(names)}
        self.label_of = {v: k for k, v in self.cat_ids.items()}
        self.coco_json = data  # kept for pycocotools evaluation (COCO(...).dataset)

        per_image: dict[int, list] = {}
        for n, a in enumerate(anns):
            try:
                per_image.setdefault(int(a["image_id"]), []).append(a)
            except (KeyError, TypeError, ValueError):
                self.issues.error("malformed", path, f"annotation #{n} has no integer image_id; skipped")
        issues = self.issues
        listed = Counter(_int_id(im) for im in images_)
        orphans = sorted(set(per_image) - set(listed))
        if orphans:
            n = sum(len(per_image[i]) for i in orphans)
            issues.error("orphan_annotation", path, f"{n} annotation(s) refer to image ids with no image entry "
                         f"({', '.join(map(str, orphans[:5]))}{', ...' if len(orphans) > 5 else ''}); skipped")
        for im in images_:
            try:
                image_id, file_name = int(im["id"]), str(im["file_name"])
                h, w = int(im.get("height", 0)), int(im.get("width", 0))
            except (KeyError, TypeError, ValueError, OverflowError):
                issues.error("malformed", path, f"image entry {str(im)[:80]} lacks id/file_name; skipped")
                continue
            if listed[image_id] > 1:  # whose boxes are whose cannot be told: neither image is used
                issues.error("duplicate_id", path, f"image id {image_id} is used by {listed[image_id]} image entries "
                             f"({file_name}, ...); its annotations cannot be assigned; skipped")
                continue
            try:
                img_path = inside(img_dir, file_name, path)
            except BadFile as e:
                e.record(issues, f" (image id {image_id}); skipped")
                continue
            if not img_path.is_file():
                issues.error("missing_file", img_path, "image listed in the JSON not found; skipped")
                continue
            if img_path.stat().st_size == 0:
                issues.error("empty_image", img_path, "empty file (0 bytes); skipped")
                continue
            if h <= 0 or w <= 0:
                try:
                    h, w = image_size(img_path)
                except BadFile as e:
                    e.record(issues, "; skipped")
                    continue
            boxes, labels, crowd, segs = [], [], [], []
            where = f"{path} (image {file_name})"
            for a in per_image.get(image_id, []):
                cat = a.get("category_id")
                if cat not in self.label_of:
                    if cat not in names:
                        issues.error("unknown_class", where, f"annotation {a.get('id')} has unknown category_id {cat}; skipped")
                    continue
                bb = a.get("bbox")
                if not (isinstance(bb, list) and len(bb) == 4):
                    issues.error("malformed", where, f"annotation {a.get('id')} has no 4-number bbox; skipped")
                    continue
                if skip_crowd and a.get("iscrowd", 0):
                    continue
                try:
                    x, y, bw, bh = (float(v) for v in bb)
                    if not all(math.isfinite(v) for v in (x, y, bw, bh)):
                        raise ValueError
                except (TypeError, ValueError):
                    issues.error("malformed", where, f"annotation {a.get('id')} bbox is not 4 finite numbers: "
                                 f"{json.dumps(bb)[:60]}; skipped")
                    continue
                boxes.append([x, y, x + bw, y + bh])
                labels.append(self.label_of[cat])
                crowd.append(bool(a.get("iscrowd", 0)))
                segs.append(a.get("segmentation"))
            b, keep = clean_boxes(boxes, w, h, issues, where)
            item = DetItem(img_path, image_id, (h, w), b, labels, None, crowd).subset(keep)
            if masks:
                kept = [s for s, k in zip(segs, keep) if k]
                item.masks = lambda hh, ww, kept=kept: _polygon_masks(kept, hh, ww)
            if len(item.labels) == 0:
                issues.info("no_labels", img_path, "image has no annotations (kept as a negative)")
            self.items.append(item)


@DATASETS.register("coco", task="detection")
def coco(root: str, split: str = "train2017", classes: Optional[list[str]] = None, strict: bool = False,
         ann_file: str = "annotations/instances_{split}.json", images: str = "{split}",
         masks: bool = False, skip_crowd: bool = False) -> COCODetection:
    """COCO instances JSON. Options: ann_file and images (relative to root, ``{split}`` is
    replaced), masks (decode instance masks into ``target["masks"]``), skip_crowd."""
    return COCODetection(root, split, classes, strict, ann_file, images, masks, skip_crowd)
