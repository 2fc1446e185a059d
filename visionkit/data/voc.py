"""Pascal VOC detection reader (``format: voc``).

Layout (VOC2007/2012, BCCD, and what LabelImg writes)::

    root/Annotations/<id>.xml          one <annotation> per image: <size>, <object>s
    root/JPEGImages/<id>.jpg
    root/ImageSets/Main/<split>.txt    one image id per line

Annotation tools export ``annotations/`` + ``images/`` without ``ImageSets``: options
``annotations: annotations, images: images, sets: ""`` read every ``.xml`` there
(:mod:`visionkit.data.layout` finds both layouts).

Each ``<object>`` has a ``<name>``, a ``<bndbox>`` with xmin/ymin/xmax/ymax in pixels and a
``<difficult>`` flag. Difficult objects are *kept* with ``target["difficult"] = True``: the
VOC metric ignores them (neither a hit nor a miss), so dropping them would change the score.
Coordinates are used as written (VOC's are 1-based, so a box spans ``xmin..xmax`` inclusive;
the one-pixel offset is handled by the VOC metric's ``+1`` area convention, not here).

Class names: ``data.classes`` if given (boxes of any other class are reported and skipped),
else ``root/classes.txt`` if present, else every name found in ``Annotations/`` sorted
alphabetically (for VOC itself this is the standard 20-class order). Label ``i+1`` is
``classes[i]``; 0 is background.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Optional

from ..errors import DataError, closest
from ..registry import DATASETS
from .base import DetectionDataset, DetItem
from .image import image_size
from .validate import BadFile, Issues, clean_boxes, inside, resolve


def read_lines(path: Path) -> list[str]:
    """Non-empty stripped lines of a text file (DataError if missing)."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    return [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]


def read_class_file(path: Path) -> list[str]:
    """Class names, one per line (``.txt``) or a ``names:`` list/dict (``.yaml``, Ultralytics)."""
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise BadFile(path, "invalid YAML", mark.line + 1 if mark else 0) from None
        names = data.get("names") if isinstance(data, dict) else None
        if isinstance(names, dict):
            names = [names[k] for k in sorted(names)]
        if not isinstance(names, list):
            raise BadFile(path, "expected a 'names:' list")
        return [str(n) for n in names]
    return read_lines(path)


def read_ids(path: Path) -> list[str]:
    """Image ids of an ImageSets list. Class-specific lists have "id 1"/"id -1" lines; otherwise
    the whole line is the id (so ids with spaces work)."""
    ids = []
    for line in read_lines(path):
        parts = line.split()
        ids.append(parts[0] if len(parts) == 2 and parts[1] in ("-1", "0", "1") else line)
    return ids


def parse_xml(path: Path):
    """Parse one VOC XML file; DataError naming file and line if it is malformed."""
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as e:
        line, col = getattr(e, "position", (0, 0))
        raise BadFile(path, f"malformed XML ({str(e).split(':')[0]}, column {col})", line) from None
    except OSError as e:
        raise BadFile(path, f"cannot read ({e.strerror or e})") from None


def _num(node, tag: str, path: Path) -> float:
    el = node.find(tag)
    if el is None or el.text is None:
        raise BadFile(path, f"<{tag}> missing")
    try:
        value = float(el.text.strip())
    except ValueError:
        raise BadFile(path, f"<{tag}> is not a number: {el.text.strip()!r}") from None
    if not math.isfinite(value):
        raise BadFile(path, f"<{tag}> is not a finite number: {el.text.strip()!r}")
    return value


def parse_annotation(path: Path):
    """-> (filename, (h, w) or None, objects: list of (name, [x1, y1, x2, y2], difficult))."""
    root = parse_xml(path)
    if root.tag != "annotation":
        raise BadFile(path, f"root element is <{root.tag}>, expected <annotation>")
    size = None
    s = root.find("size")
    if s is not None:
        try:
            w, h = _num(s, "width", path), _num(s, "height", path)
            size = (int(h), int(w)) if w > 0 and h > 0 else None
        except BadFile:
            size = None
    objects = []
    for obj in root.iter("object"):
        name = (obj.findtext("name") or "").strip()
        bb = obj.find("bndbox")
        if bb is None:
            raise BadFile(path, f"<object> {name!r} has no <bndbox>")
        box = [_num(bb, t, path) for t in ("xmin", "ymin", "xmax", "ymax")]
        diff = (obj.findtext("difficult") or "0").strip() in ("1", "true")
        objects.append((name, box, diff))
    return (root.findtext("filename") or "").strip(), size, objects


def scan_class_names(ann_dir: Path, issues: Optional[Issues] = None) -> list[str]:
    """The class names used in ``ann_dir``'s XML files, sorted. Without a class list every name
    becomes a class, so a rare name that is close to a common one (``birb`` beside ``bird``) is
    reported as a likely typo, with the way to fix the list."""
    counts: Counter = Counter()
    for p in sorted(ann_dir.glob("*.xml")):
        try:
            counts.update(o[0] for o in parse_annotation(p)[2] if o[0])
        except BadFile:
            continue  # reported when (if) the file's split is read
    names = sorted(counts)
    for name in names:
        twin = closest(name, [n for n in names if n != name and counts[n] > counts[name]])
        if issues is not None and twin is not None and counts[name] * 10 <= counts[twin]:
            issues.warn("suspect_class", ann_dir, f"class {name!r} ({counts[name]} object(s)) looks like a typo of "
                        f"{twin!r} ({counts[twin]}): it is kept as a class of its own; set data.classes (or "
                        f"--classes, or a classes.txt) to the real list")
    return names


class VOCDetection(DetectionDataset):
    """Pascal VOC detection split. See the module docstring for the layout."""

    def __init__(self, root, split: str = "train", classes: Optional[list[str]] = None, strict: bool = False,
                 annotations: str = "Annotations", images: str = "JPEGImages", sets: str = "ImageSets/Main",
                 keep_difficult: bool = True, image_ext: str = ".jpg"):
        super().__init__(root, split, strict)
        root = Path(root)
        if not root.is_dir():
            raise DataError(f"{root}: data set folder not found")
        ann_dir, img_dir = resolve(root, annotations), resolve(root, images)
        if classes:
            self.classes = list(classes)
        elif (root / "classes.txt").is_file():
            self.classes = read_class_file(root / "classes.txt")
        else:
            self.classes = scan_class_names(ann_dir, self.issues)
        index = {c: i + 1 for i, c in enumerate(self.classes)}
        if sets:
            list_file = resolve(root, sets) / f"{split}.txt"
            ids = read_ids(list_file)
        else:  # no split lists: every annotation file (data.split_files may then keep a part)
            list_file = ann_dir
            ids = sorted(p.stem for p in ann_dir.glob("*.xml"))
        for n, image_id in enumerate(ids):
            try:
                xml = inside(ann_dir, f"{image_id}.xml", list_file)
            except BadFile as e:
                e.record(self.issues, "; skipped")
                continue
            item = self._index_one(xml, img_dir, image_id, n, index, image_ext, keep_difficult)
            if item is not None:
                self.items.append(item)

    def _index_one(self, xml: Path, img_dir: Path, image_id: str, n: int, index, image_ext, keep_difficult):
        issues: Issues = self.issues
        if not xml.is_file():
            issues.error("missing_file", xml, "annotation file not found; image skipped")
            return None
        try:
            filename, size, objects = parse_annotation(xml)
        except BadFile as e:
            e.record(issues, "; image skipped")
            return None
        try:
            path = inside(img_dir, f"{image_id}{image_ext}", xml)
            if not path.is_file() and filename:
                path = inside(img_dir, filename, xml)
        except BadFile as e:
            e.record(issues, "; image skipped")
            return None
        if not path.is_file():
            issues.error("missing_file", path, f"image of {xml.name} not found; skipped")
            return None
        if path.stat().st_size == 0:
            issues.error("empty_image", path, "empty file (0 bytes); skipped")
            return None
        if size is None:
            try:
                size = image_size(path)
            except BadFile as e:
                e.record(issues, "; skipped")
                return None
            issues.info("no_size", xml, f"<size> missing or zero; read {size[1]}x{size[0]} from the image")
        boxes, labels, diff = [], [], []
        for name, box, d in objects:
            if name not in index:
                issues.error("unknown_class", xml, f"unknown class {name!r} (known: {', '.join(self.classes[:8])}"
                             f"{', ...' if len(self.classes) > 8 else ''}); box skipped")
                continue
            if d and not keep_difficult:
                continue
            boxes.append(box), labels.append(index[name]), diff.append(d)
        b, keep = clean_boxes(boxes, size[1], size[0], issues, xml)
        item = DetItem(path, n, size, b, labels, diff).subset(keep)
        if len(item.labels) == 0:
            issues.info("no_labels", xml, "image has no objects (kept as a negative)")
        return item


@DATASETS.register("voc", task="detection")
def voc(root: str, split: str = "train", classes: Optional[list[str]] = None, strict: bool = False,
        annotations: str = "Annotations", images: str = "JPEGImages", sets: str = "ImageSets/Main",
        keep_difficult: bool = True, image_ext: str = ".jpg") -> VOCDetection:
    """Pascal VOC XML detection. Options: annotations/images/sets folders (relative to root;
    ``sets: ""`` reads every annotation, whatever the split), keep_difficult (keep objects flagged difficult, flagged in the target), image_ext."""
    return VOCDetection(root, split, classes, strict, annotations, images, sets, keep_difficult, image_ext)
