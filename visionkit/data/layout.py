"""A data set's format, reader options and splits, read from its folder layout.

One detector for ``visionkit data check``, ``data convert`` and ``train --data``. Layouts
recognised (first match wins)::

    voc          Annotations/*.xml + JPEGImages/  [+ ImageSets/Main/<split>.txt]
                 annotations/*.xml + images/      (what annotation tools export)
    voc_masks    SegmentationClass/ + ImageSets/Segmentation/
    coco         annotations/instances_<split>.json + <split>/
                 <split>/_annotations.coco.json   (Roboflow's COCO export)
                 one COCO JSON (annotations.json, annotations/*.json) + images/
    coco_captions, idx   as before (captions_<split>.json, *-images-idx3-ubyte)
    yolo         images/<split>/ + labels/<split>/
                 images/ + labels/                 (no splits)
                 train/images + train/labels [+ valid/, val/, test/]   (Roboflow/Ultralytics export)
                 class names from classes.txt or a YAML with ``names:`` (data.yaml)
    masks        <split>.txt lists of "image mask.png"
                 images/ + masks/ (PNG class maps paired by file stem, no splits)

A layout without splits is *pooled*: its options make the reader read every item whatever
the split name, and :mod:`visionkit.data.split` divides the items by list files.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..errors import DataError
from .image import IMAGE_EXTS

FORMATS = ("voc", "coco", "yolo", "masks", "voc_masks", "coco_captions", "idx")
POOL = "all"  # the split name a pooled layout is read under (its reader ignores it)
VAL_NAMES = ("val", "valid", "validation")


@dataclass
class Layout:
    format: str
    options: dict = field(default_factory=dict)  # the reader's options (data.options)
    splits: list[str] = field(default_factory=list)  # split names found; [] = pooled
    description: str = ""

    @property
    def pooled(self) -> bool:
        return not self.splits

    def roles(self) -> Optional[dict[str, str]]:
        """``{"train": .., "val": .., "test": ..}`` from the split names found, or None when the
        set needs a random split (pooled, or no validation split). Test falls back to val."""
        names = self.splits
        val = next((n for n in VAL_NAMES if n in names), None)
        if val is None:
            return None
        train = "trainval" if "trainval" in names and "test" in names else "train"
        if train not in names:
            return None
        return {"train": train, "val": val, "test": "test" if "test" in names else val}


def _images(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS] if folder.is_dir() else []


def _sorted_splits(names) -> list[str]:
    order = {"train": 0, "trainval": 1, "val": 2, "valid": 2, "test": 3}
    return sorted(set(names), key=lambda n: (order.get(n, 9), n))


def _yolo_names(root: Path) -> dict:
    """The YOLO ``names`` option: classes.txt (the reader's default) or a YAML with names:."""
    if (root / "classes.txt").is_file():
        return {}
    for y in sorted(root.glob("*.y*ml")):
        if "names:" in y.read_text(encoding="utf-8", errors="replace"):
            return {"names": y.name}
    return {}


def _is_coco_json(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and all(k in data for k in ("images", "annotations", "categories"))


def _voc(root: Path) -> Optional[Layout]:
    for ann, img in (("Annotations", "JPEGImages"), ("annotations", "images")):
        if (root / ann).is_dir() and (root / img).is_dir() and next((root / ann).glob("*.xml"), None):
            opts = {} if ann == "Annotations" else {"annotations": ann, "images": img}
            exts = Counter(p.suffix.lower() for p in _images(root / img))
            if exts and ".jpg" not in exts:
                opts["image_ext"] = next(p.suffix for p in _images(root / img) if p.suffix.lower() == exts.most_common(1)[0][0])
            sets = root / "ImageSets" / "Main"
            names = [p.stem for p in sets.glob("*.txt") if "_" not in p.stem] if sets.is_dir() else []
            if not names:
                opts["sets"] = ""
            return Layout("voc", opts, _sorted_splits(names), f"Pascal VOC XML ({ann}/ + {img}/)")
    return None


def _coco(root: Path) -> Optional[Layout]:
    inst = list(root.glob("annotations/instances_*.json"))
    if inst:
        return Layout("coco", {}, _sorted_splits(re.sub(r"^instances_", "", p.stem) for p in inst), "COCO JSON")
    rf = [p.parent.name for p in root.glob("*/_annotations.coco.json")]
    if rf:
        return Layout("coco", {"ann_file": "{split}/_annotations.coco.json", "images": "{split}"},
                      _sorted_splits(rf), "COCO JSON (one folder per split)")
    for js in sorted([*root.glob("*.json"), *root.glob("annotations/*.json")]):
        if _is_coco_json(js):
            img = "images" if (root / "images").is_dir() else "."
            return Layout("coco", {"ann_file": js.relative_to(root).as_posix(), "images": img}, [], f"COCO JSON ({js.name})")
    return None


def _yolo(root: Path) -> Optional[Layout]:
    names = _yolo_names(root)
    if (root / "labels").is_dir() and (root / "images").is_dir():
        if _images(root / "images"):
            return Layout("yolo", {"images": "images", "labels": "labels", **names}, [], "YOLO txt (images/ + labels/)")
        splits = [p.name for p in (root / "images").iterdir() if p.is_dir()]
        return Layout("yolo", names, _sorted_splits(splits), "YOLO txt (images/<split>/ + labels/<split>/)")
    export = [p.name for p in root.iterdir() if p.is_dir() and (p / "images").is_dir() and (p / "labels").is_dir()]
    if export:
        return Layout("yolo", {"images": "{split}/images", "labels": "{split}/labels", **names}, _sorted_splits(export),
                      "YOLO txt (<split>/images + <split>/labels)")
    if (root / "labels").is_dir():  # images elsewhere (options.images): the label folders name the splits
        splits = [p.name for p in (root / "labels").iterdir() if p.is_dir()]
        return Layout("yolo", names, _sorted_splits(splits), "YOLO txt")
    return None


def _masks(root: Path) -> Optional[Layout]:
    lists = []
    for txt in root.glob("*.txt"):
        first = next((ln for ln in txt.read_text(errors="replace").splitlines() if ln.strip()), "")
        if len(first.split()) == 2 and first.split()[1].lower().endswith(".png"):
            lists.append(txt.stem)
    if lists:
        return Layout("masks", {}, _sorted_splits(lists), "image/mask PNG pairs (list files)")
    for m in ("masks", "labels", "annotations"):
        if _images(root / "images") and next((root / m).glob("*.png"), None) is not None:
            return Layout("masks", {"images": "images", "masks": m}, [], f"image/mask PNG pairs (images/ + {m}/)")
    return None


def detect_layout(root) -> Layout:
    """The :class:`Layout` of the data set folder ``root`` (DataError if nothing matches)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    found = _voc(root)
    if found is None and (root / "SegmentationClass").is_dir() and (root / "ImageSets" / "Segmentation").is_dir():
        names = [p.stem for p in (root / "ImageSets/Segmentation").glob("*.txt")]
        found = Layout("voc_masks", {}, _sorted_splits(names), "Pascal VOC segmentation")
    if found is None:
        found = _coco(root)
    if found is None and list(root.glob("captions_*.json")):
        names = [re.sub(r"^captions_", "", p.stem) for p in root.glob("captions_*.json")]
        found = Layout("coco_captions", {}, _sorted_splits(names), "COCO captions")
    if found is None and list(root.glob("*-images-idx3-ubyte*")):
        found = Layout("idx", {}, ["train", "test"], "IDX (MNIST-style)")
    if found is None:
        found = _masks(root) or _yolo(root)
    if found is None:
        raise DataError(f"{root}: cannot tell the data set's format from its layout (recognised: VOC "
                        "annotations/+images/, COCO JSON, YOLO images/+labels/ or train/valid/test, mask PNGs; "
                        "docs/own_data.md); pass --format")
    return found


# each pooled format's options with "{split}" in them, as the readers default them
_SPLIT_OPTIONS = {"voc": {"sets": ""}, "coco": {"ann_file": "annotations/instances_{split}.json", "images": "{split}"},
                  "yolo": {"images": "images/{split}", "labels": "labels/{split}"}, "masks": {"list_file": "{split}.txt"}}


def pool_options(layout: Layout, split: str) -> dict:
    """Reader options that read ``split`` (every item when pooled) under any split name."""
    if layout.format not in _SPLIT_OPTIONS:
        raise DataError(f"format {layout.format!r} cannot be split into list files")
    opts = {**_SPLIT_OPTIONS[layout.format], **layout.options}
    return {k: v.replace("{split}", split) if isinstance(v, str) else v for k, v in opts.items()}


def read_pool(root, layout: Layout, split: str = POOL, classes=None):
    """The reader (no transform) of every item of a pooled layout, or of one named split."""
    from ..config import DataConfig
    from ..registry import DATASETS
    from .build import reader_kwargs

    cfg = DataConfig(format=layout.format, root=str(root), classes=classes, options=pool_options(layout, split))
    return DATASETS.build(layout.format, f"data (format {layout.format!r})", **reader_kwargs(cfg, POOL, train=False))


def data_section(root, split_dir, val: float = 0.1, test: float = 0.1, seed: int = 0,
                 split_files: Optional[dict] = None, classes: Optional[list[str]] = None) -> tuple[dict, Layout, str]:
    """The ``data:`` keys for the data set folder ``root`` (format, root, options, classes,
    split names), -> ``(section, layout, how the split was made)``. Its own train/val(/test)
    splits are used when it has them; ``split_files`` (``{part: list file}``) when given; else
    a seeded random split of every item is written into ``split_dir``. ``classes`` (the user's
    names, in their order) replaces the names read from the data."""
    from .split import random_split, write_split_files

    root = Path(root).resolve()
    layout = detect_layout(root)
    roles = None if split_files else layout.roles()
    section = {"format": layout.format, "root": str(root), "options": dict(layout.options)}
    if roles:
        ds = read_pool(root, Layout(layout.format, layout.options, [roles["train"]]), roles["train"], classes) \
            if layout.format in _SPLIT_OPTIONS else None
        section.update(roles)
        how = f"its own splits: train={roles['train']}, val={roles['val']}, test={roles['test']}"
    else:
        source = layout.splits[0] if layout.splits else POOL
        ds = read_pool(root, layout, source, classes)
        section["options"] = pool_options(layout, source)
        if split_files is None:
            parts = random_split([ds.item_file(i) for i in range(len(ds))], val, test, seed)
            split_files = write_split_files(parts, split_dir)
            how = (f"random split (seed {seed}) of {len(ds)} images: " +
                   ", ".join(f"{k} {len(v)}" for k, v in parts.items()) + f", lists in {split_dir}")
        else:
            how = "split files " + ", ".join(f"{k}={v}" for k, v in split_files.items())
        section.update(train="train", val="val" if "val" in split_files else "",
                       test="test" if "test" in split_files else ("val" if "val" in split_files else "train"),
                       split_files=dict(split_files))
    if ds is not None:
        section["classes"] = list(ds.classes)
    return section, layout, how


def reader_setup(root, fmt: Optional[str] = None, options: Optional[dict] = None,
                 splits: Optional[list[str]] = None) -> tuple[str, dict, list[str]]:
    """``(format, reader options, split names)`` to read the folder ``root`` with: what its
    layout says, under the caller's ``fmt``/``options``/``splits`` when given. A pooled layout
    reads as one split named ``all``."""
    options = dict(options or {})
    if fmt is not None:
        return fmt, options, list(splits or [])
    layout = detect_layout(root)
    base = pool_options(layout, POOL) if layout.pooled else layout.options
    return layout.format, {**base, **options}, list(splits or layout.splits or [POOL])
