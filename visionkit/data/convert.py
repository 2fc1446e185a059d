"""Convert detection data sets between COCO, Pascal VOC and YOLO (``visionkit data convert``).

The source is read with the ordinary reader (so every check of :mod:`visionkit.data.validate`
applies: bad boxes are clipped or dropped, unknown classes skipped, and all of it reported),
then written in the target layout. Images are copied (or hard-linked with ``link=True``)
under their original file names; annotation files are written atomically.

What does not survive a conversion, by the nature of the formats:

* YOLO has no ``difficult`` or ``iscrowd`` flag: crowd regions are left out (as Ultralytics
  does) and difficult objects become ordinary ones.
* VOC has no ``iscrowd``: crowd regions are written with ``<difficult>1</difficult>``, so the
  VOC metric ignores them, as COCO's does.
* COCO has no ``difficult``: difficult objects are written as ordinary annotations, with
  ``"difficult": 1`` kept as an extra key that pycocotools ignores.
* COCO category ids: kept when the source is COCO, else ``1..K`` in class order.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Optional
from xml.sax.saxutils import escape

from ..config import DataConfig
from ..errors import DataError
from ..registry import DATASETS
from ..utils.io import atomic_path, atomic_write_text
from .build import reader_kwargs
from .validate import Issues

DETECTION_FORMATS = ("coco", "voc", "yolo")


def _copy(src: Path, dst: Path, link: bool) -> None:
    if dst.exists() and dst.stat().st_size == src.stat().st_size:
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    if link:
        try:
            if dst.exists():
                dst.unlink()
            os.link(src, dst)
            return
        except OSError:
            pass  # another file system: copy instead
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


def _unique_name(name: str, used: set) -> str:
    stem, ext = os.path.splitext(name)
    k, out = 1, name
    while out in used:
        out, k = f"{stem}_{k}{ext}", k + 1
    used.add(out)
    return out


def write_voc(ds, out: Path, split: str, link: bool = False) -> int:
    used: set = set()
    ids = []
    for it in ds.items:
        name = _unique_name(Path(it.path).name, used)
        stem = Path(name).stem
        _copy(Path(it.path), out / "JPEGImages" / name, link)
        h, w = it.size
        objs = []
        for b, lab, diff, crowd in zip(it.boxes.tolist(), it.labels.tolist(), it.difficult, it.iscrowd):
            coords = "".join(f"<{t}>{v:.2f}</{t}>" for t, v in zip(("xmin", "ymin", "xmax", "ymax"), b))
            objs.append(f"  <object>\n    <name>{escape(ds.classes[lab - 1])}</name>\n    <pose>Unspecified</pose>\n"
                        f"    <truncated>0</truncated>\n    <difficult>{int(bool(diff) or bool(crowd))}</difficult>\n"
                        f"    <bndbox>{coords}</bndbox>\n  </object>\n")
        xml = (f"<annotation>\n  <folder>JPEGImages</folder>\n  <filename>{escape(name)}</filename>\n"
               f"  <size><width>{w}</width><height>{h}</height><depth>3</depth></size>\n  <segmented>0</segmented>\n"
               + "".join(objs) + "</annotation>\n")
        atomic_write_text(out / "Annotations" / f"{stem}.xml", xml)
        ids.append(stem)
    atomic_write_text(out / "ImageSets" / "Main" / f"{split}.txt", "".join(f"{i}\n" for i in ids))
    if not (out / "classes.txt").exists():
        atomic_write_text(out / "classes.txt", "".join(f"{c}\n" for c in ds.classes))
    return len(ids)


def write_yolo(ds, out: Path, split: str, link: bool = False) -> int:
    used: set = set()
    for it in ds.items:
        name = _unique_name(Path(it.path).name, used)
        _copy(Path(it.path), out / "images" / split / name, link)
        h, w = it.size
        lines = []
        for (x1, y1, x2, y2), lab, crowd in zip(it.boxes.tolist(), it.labels.tolist(), it.iscrowd):
            if crowd:
                continue
            lines.append(f"{lab - 1} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}\n")
        atomic_write_text(out / "labels" / split / f"{Path(name).stem}.txt", "".join(lines))
    atomic_write_text(out / "classes.txt", "".join(f"{c}\n" for c in ds.classes))
    return len(ds.items)


def write_coco(ds, out: Path, split: str, link: bool = False) -> int:
    cat_ids = getattr(ds, "cat_ids", None) or {i + 1: i + 1 for i in range(len(ds.classes))}
    images, anns, used = [], [], set()
    for k, it in enumerate(ds.items, 1):
        name = _unique_name(Path(it.path).name, used)
        _copy(Path(it.path), out / split / name, link)
        h, w = it.size
        image_id = it.image_id if getattr(ds, "cat_ids", None) else k
        images.append({"id": image_id, "file_name": name, "width": w, "height": h})
        for b, lab, diff, crowd in zip(it.boxes.tolist(), it.labels.tolist(), it.difficult, it.iscrowd):
            x1, y1, x2, y2 = b
            a = {"id": len(anns) + 1, "image_id": image_id, "category_id": cat_ids[lab],
                 "bbox": [round(x1, 3), round(y1, 3), round(x2 - x1, 3), round(y2 - y1, 3)],
                 "area": round((x2 - x1) * (y2 - y1), 3), "iscrowd": int(bool(crowd)), "segmentation": []}
            if diff:
                a["difficult"] = 1
            anns.append(a)
    cats = [{"id": cat_ids[i + 1], "name": c, "supercategory": ""} for i, c in enumerate(ds.classes)]
    data = {"info": {"description": f"converted by visionkit from {ds.root}"}, "images": images,
            "annotations": anns, "categories": cats}
    atomic_write_text(out / "annotations" / f"instances_{split}.json", json.dumps(data))
    return len(images)


WRITERS = {"voc": write_voc, "yolo": write_yolo, "coco": write_coco}


def convert(src, src_format: str, dst, dst_format: str, splits: list[str], classes: Optional[list[str]] = None,
            options: Optional[dict] = None, link: bool = False, strict: bool = False) -> tuple[dict, Issues]:
    """Convert ``splits`` of ``src`` to ``dst``. -> ({split: images written}, issues found reading)."""
    for f in (src_format, dst_format):
        if f not in DETECTION_FORMATS:
            raise DataError(f"convert: format {f!r} is not one of {', '.join(DETECTION_FORMATS)}")
    src, dst = Path(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise DataError(f"{dst}: the output folder must differ from the source")
    written, issues = {}, Issues()
    for split in splits:
        cfg = DataConfig(format=src_format, root=str(src), classes=classes, strict=strict, options=dict(options or {}))
        ds = DATASETS.build(src_format, f"data (format {src_format!r})", **reader_kwargs(cfg, split, train=False))
        if classes is None:
            classes = list(ds.classes)  # every split shares the first split's class list
        written[split] = WRITERS[dst_format](ds, dst, split, link)
        issues.extend(ds.issues)
    return written, issues
