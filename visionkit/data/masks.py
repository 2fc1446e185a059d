"""Semantic segmentation readers: image + class-index mask pairs.

Two layouts:

``format: masks`` (CamVid as prepared for SegNet, and most custom sets)::

    root/<split>.txt                 lines "train/0001TP_006690.jpg trainannot/0001TP_006690.png"
    root/train/*.jpg  root/trainannot/*.png

  Without a list file, images in ``images`` and masks in ``masks`` (default ``<split>`` and
  ``<split>annot``) are paired by file stem. Class names come from ``data.classes`` or
  ``root/classes.txt``.

``format: voc_masks`` (Pascal VOC 2012 segmentation)::

    root/ImageSets/Segmentation/<split>.txt   root/JPEGImages/<id>.jpg
    root/SegmentationClass/<id>.png           palette PNG: 0 background, 1..20, 255 border

Each mask pixel holds a class index ``0..K-1``. Unlike detection there is **no background
shift**: label ``c`` is ``dataset.classes[c]`` (VOC's class 0 *is* "background"). Pixels equal
to the ignore index (``data.ignore_index``: 255 for VOC, 11 "void" for CamVid) are left out of
the loss and the metric. Any other value outside ``0..K-1`` is reported (``mask_out_of_range``)
and set to the ignore index, never trained on as a class.

Sample target: ``masks`` (H×W int64 class map; the name of the segmentation output too), ``image_id``, ``path``, ``mask_path``, ``orig_size``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..errors import DataError
from ..registry import DATASETS
from .base import VisionDataset
from .image import IMAGE_EXTS, read_image, read_mask
from .validate import BadFile, check_mask, inside, resolve
from .voc import read_class_file, read_ids

VOC_SEG_CLASSES = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
                   "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
                   "train", "tvmonitor"]


class SegmentationDataset(VisionDataset):
    """A list of (image path, mask path) pairs with K class names and an ignore index."""

    task = "segmentation"

    def __init__(self, root, split: str, pairs: list[tuple[Path, Path] | BadFile], classes: list[str],
                 ignore_index: int = 255, strict: bool = False):
        """``pairs`` may hold a :class:`BadFile` for a list-file line that named no usable pair:
        it is recorded (skipped and listed, or raised under ``strict``) like any bad item."""
        super().__init__(root, split, strict)
        self.classes = list(classes)
        self.ignore_index = int(ignore_index)
        for pair in pairs:
            if isinstance(pair, BadFile):
                pair.record(self.issues, "; line skipped")
                continue
            img, msk = pair
            bad = next((p for p in (img, msk) if not p.is_file() or p.stat().st_size == 0), None)
            if bad is not None:
                kind = "missing_file" if not bad.is_file() else "empty_image"
                self.issues.error(kind, bad, "missing or empty; pair skipped")
                continue
            self.items.append((str(img), str(msk)))

    def raw(self, i: int):
        img_path, mask_path = self.items[i]
        image = read_image(img_path, self.issues)
        mask = read_mask(mask_path)
        if mask.shape != image.shape[:2]:
            raise BadFile(mask_path, f"mask is {mask.shape[1]}x{mask.shape[0]} but its image is "
                                     f"{image.shape[1]}x{image.shape[0]}", kind="bad_mask")
        mask = check_mask(mask, len(self.classes), self.ignore_index, self.issues, mask_path)
        return image, {"masks": mask, "image_id": i, "path": img_path, "mask_path": mask_path,
                       "orig_size": image.shape[:2]}


def _classes(root: Path, classes: Optional[list[str]], fmt: str) -> list[str]:
    if classes:
        return list(classes)
    if (root / "classes.txt").is_file():
        return read_class_file(root / "classes.txt")
    raise DataError(f"{root}: format {fmt!r} needs class names: set data.classes or write {root / 'classes.txt'}")


@DATASETS.register("masks", task="segmentation")
def masks(root: str, split: str = "train", classes: Optional[list[str]] = None, strict: bool = False,
          ignore_index: int = 255, list_file: str = "{split}.txt", images: str = "{split}",
          masks: str = "{split}annot") -> SegmentationDataset:
    """Image folder + class-index mask PNG folder. Options: list_file (``image mask`` pairs per
    line, relative to root), else images/masks folders paired by stem (``{split}`` replaced)."""
    base = Path(root)
    if not base.is_dir():
        raise DataError(f"{base}: data set folder not found")
    lst = resolve(base, list_file.format(split=split))
    pairs = []
    if lst.is_file():
        for ln, line in enumerate(lst.read_text(encoding="utf-8").splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2:
                pairs.append(BadFile(lst, f"expected 'image mask' (2 paths), got {len(parts)} fields", ln))
                continue
            try:
                pairs.append((inside(base, parts[0], lst), inside(base, parts[1], lst)))
            except BadFile as e:
                pairs.append(BadFile(lst, e.reason, ln, e.kind))
    else:
        img_dir, msk_dir = resolve(base, images.format(split=split)), resolve(base, masks.format(split=split))
        if not img_dir.is_dir():
            raise DataError(f"{lst}: no list file, and no image folder {img_dir}")
        by_stem = {p.stem: p for p in msk_dir.glob("*.png")} if msk_dir.is_dir() else {}
        for p in sorted(img_dir.iterdir()):
            if p.suffix.lower() in IMAGE_EXTS:
                pairs.append((p, by_stem.get(p.stem, msk_dir / f"{p.stem}.png")))
    return SegmentationDataset(root, split, pairs, _classes(base, classes, "masks"), ignore_index, strict)


@DATASETS.register("voc_masks", task="segmentation")
def voc_masks(root: str, split: str = "train", classes: Optional[list[str]] = None, strict: bool = False,
              ignore_index: int = 255, images: str = "JPEGImages", masks: str = "SegmentationClass",
              sets: str = "ImageSets/Segmentation") -> SegmentationDataset:
    """Pascal VOC segmentation (palette PNGs; 21 classes with background = 0, 255 ignored)."""
    base = Path(root)
    lst = resolve(base, sets) / f"{split}.txt"
    ids = read_ids(lst)
    pairs = [(inside(resolve(base, images), f"{i}.jpg", lst), inside(resolve(base, masks), f"{i}.png", lst)) for i in ids]
    return SegmentationDataset(root, split, pairs, list(classes) if classes else VOC_SEG_CLASSES, ignore_index, strict)
