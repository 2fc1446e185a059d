"""``visionkit data check``: read every item of a data set's splits (found from its layout), report.

The report gives, per split: the number of items, the boxes (or pixels) per class, the
images without labels, and every problem the readers found (:mod:`visionkit.data.validate`),
counted by kind with examples naming file and line. Images are decoded too (``decode=True``),
which is how corrupt, truncated and non-image files are found: the annotation files alone
cannot tell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..config import DataConfig
from ..errors import DataError
from ..registry import DATASETS
from .build import reader_kwargs
from .layout import FORMATS, detect_layout, reader_setup  # noqa: F401  (FORMATS: re-exported)
from .validate import BadFile, Issues

def detect_format(root: Path) -> str:
    """The format of the folder's layout (:func:`visionkit.data.layout.detect_layout`)."""
    return detect_layout(root).format


def detect_splits(root: Path, fmt: str) -> list[str]:
    """Split names present in ``root`` for ``fmt`` (train/val/test first, in that order)."""
    root = Path(root)
    if fmt == "voc":
        names = [p.stem for p in (root / "ImageSets/Main").glob("*.txt") if "_" not in p.stem]
    elif fmt == "voc_masks":
        names = [p.stem for p in (root / "ImageSets/Segmentation").glob("*.txt")]
    elif fmt == "coco":
        names = [re.sub(r"^instances_", "", p.stem) for p in root.glob("annotations/instances_*.json")]
    elif fmt == "coco_captions":
        names = [re.sub(r"^captions_", "", p.stem) for p in root.glob("captions_*.json")]
    elif fmt == "idx":
        names = ["train", "test"]
    elif fmt == "yolo":
        names = [p.name for p in (root / "labels").iterdir() if p.is_dir()] if (root / "labels").is_dir() else []
    else:
        names = [p.stem for p in root.glob("*.txt") if p.stem != "classes"]
    order = {"train": 0, "trainval": 1, "val": 2, "test": 3}
    names = sorted(set(names), key=lambda n: (order.get(n, 9), n))
    if not names:
        raise DataError(f"{root}: no splits found for format {fmt!r}; pass --split")
    return names


@dataclass
class SplitReport:
    split: str
    items: int = 0
    task: str = ""
    per_class: dict = field(default_factory=dict)  # class -> boxes (detection) or pixels (segmentation)
    unlabeled: int = 0
    unreadable: int = 0
    extra: dict = field(default_factory=dict)


def check_split(ds, decode: bool = True, progress: bool = False) -> SplitReport:
    """Read every item of ``ds`` (a reader, no transform); problems land in ``ds.issues``."""
    rep = SplitReport(ds.split, len(ds), ds.task)
    n_cls = len(ds.classes)
    counts = np.zeros(n_cls + 1, np.int64)
    indices = range(len(ds))
    if progress:
        from tqdm import tqdm

        indices = tqdm(indices, desc=f"check {ds.split}", unit="img", leave=False, disable=None)
    for i in indices:
        if ds.task == "detection" and not decode:
            lab = ds.items[i].labels
            np.add.at(counts, lab, 1)
            rep.unlabeled += int(len(lab) == 0)
            continue
        if not decode:
            continue
        try:
            _, t = ds.raw(i)
        except BadFile as e:
            e.record(ds.issues, "; item skipped")
            rep.unreadable += 1
            continue
        if ds.task == "detection":
            np.add.at(counts, t["labels"], 1)
            rep.unlabeled += int(len(t["labels"]) == 0)
        elif ds.task == "segmentation":
            m = t["masks"]
            counts[1:] += np.bincount(m[(m >= 0) & (m < n_cls)].ravel(), minlength=n_cls)[:n_cls]
            rep.extra["ignored_pixels"] = rep.extra.get("ignored_pixels", 0) + int((m == ds.ignore_index).sum())
        elif ds.task in ("generation", "classification"):
            counts[t["label"] + 1] += 1
    if ds.task == "captioning":
        rep.extra.update(images=ds.num_images, captions=ds.num_captions, vocabulary=len(ds.vocab))
    if ds.task in ("generation", "classification") and not decode:
        counts[1:] = np.bincount(ds.labels, minlength=n_cls)[:n_cls]
    if decode or ds.task != "segmentation":  # pixel counts need the masks decoded
        rep.per_class = {c: int(counts[k + 1]) for k, c in enumerate(ds.classes)}
    return rep


def format_report(fmt: str, root, reports: list[SplitReport], issues: Issues, max_per_kind: int = 10) -> str:
    """The text that ``visionkit data check`` prints."""
    lines = [f"data set {root} (format {fmt})"]
    for r in reports:
        unit = {"detection": "boxes", "segmentation": "pixels", "generation": "images",
                "classification": "images"}.get(r.task, "")
        head = f"split {r.split}: {r.items} items" + (f" ({r.unreadable} unreadable)" if r.unreadable else "")
        if r.task == "detection":
            head += f", {sum(r.per_class.values())} boxes, {r.unlabeled} images without labels"
        for k, v in r.extra.items():
            head += f", {v} {k.replace('_', ' ')}"
        lines.append(head)
        if r.per_class and unit:
            width = max(len(c) for c in r.per_class)
            for c, n in r.per_class.items():
                lines.append(f"  {c:<{width}}  {n} {unit}")
    lines.append("problems:" if len(issues) else "problems: none")
    if len(issues):
        lines.extend("  " + ln for ln in issues.report(max_per_kind).splitlines())
        n_err = len(issues.skipped_files)
        if n_err:
            lines.append(f"{n_err} file(s) with errors: their items or boxes were skipped")
    return "\n".join(lines)


def check_dataset(root, fmt: Optional[str] = None, splits: Optional[list[str]] = None, classes=None,
                  strict: bool = False, decode: bool = True, options: Optional[dict] = None,
                  ignore_index: int = 255, progress: bool = False):
    """Check every split; -> (format, [SplitReport], Issues of all splits)."""
    root = Path(root)
    fmt, options, splits = reader_setup(root, fmt, options, splits)
    splits = splits or detect_splits(root, fmt)
    all_issues = Issues()
    reports = []
    for split in splits:
        cfg = DataConfig(format=fmt, root=str(root), classes=classes, strict=strict, train=splits[0],
                         ignore_index=ignore_index, options=dict(options or {}))
        ds = DATASETS.build(fmt, f"data (format {fmt!r})", **reader_kwargs(cfg, split, train=False))
        reports.append(check_split(ds, decode, progress))
        all_issues.extend(ds.issues)
    return fmt, reports, all_issues
