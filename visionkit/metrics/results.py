"""Predictions on disk: COCO results JSON, and COCO ground-truth JSON, read with clear errors.

The project-wide prediction format (docs/ARCHITECTURE.md, "Predictions on disk") is the COCO
results format: a JSON list of ``{"image_id", "category_id", "bbox": [x, y, w, h], "score"}``,
plus ``file_name`` so a human can find the image. Boxes inside the package are corner boxes
``[x1, y1, x2, y2]``; on disk they are ``[x1, y1, x2 - x1, y2 - y1]``.

Every reader here turns a bad file into one :class:`~visionkit.errors.DataError` line that
names the file and the problem (JSON syntax errors with line and column; the index of the bad
item), so ``visionkit score`` can print it without a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import DataError
from ..utils.io import atomic_write_text
from ..utils.values import is_finite_number
from .align import align_results


def _np(x, dtype) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def to_coco_results(
    preds: Sequence[dict],
    image_ids: Sequence,
    cat_ids: Sequence[int] | Mapping[int, int] | None = None,
    file_names: Sequence[str] | None = None,
) -> list[dict]:
    """Per-image predictions (``boxes`` xyxy, ``labels`` 1..K, ``scores``) -> COCO results list.

    ``image_ids[i]`` is the id of image ``i``. ``cat_ids`` gives the data set's own, possibly
    non-contiguous category ids: a COCO data set's ``{label: id}``, or a list where label ``l``
    is ``cat_ids[l - 1]``. Without it label ``l`` is category ``l``.
    """
    if cat_ids is not None and not isinstance(cat_ids, Mapping):
        cat_ids = {i + 1: c for i, c in enumerate(cat_ids)}
    if len(preds) != len(image_ids):
        raise ValueError(f"{len(preds)} predictions but {len(image_ids)} image ids")
    if file_names is not None and len(file_names) != len(preds):
        raise ValueError(f"{len(preds)} predictions but {len(file_names)} file names")
    out: list[dict] = []
    for i, p in enumerate(preds):
        boxes = _np(p["boxes"], np.float64).reshape(-1, 4)
        labels = _np(p["labels"], np.int64).reshape(-1)
        scores = _np(p["scores"], np.float64).reshape(-1)
        xywh = boxes.copy()
        xywh[:, 2:] -= xywh[:, :2]
        img_id = image_ids[i].item() if hasattr(image_ids[i], "item") else image_ids[i]
        for b, l, s in zip(xywh.tolist(), labels.tolist(), scores.tolist()):
            r = {"image_id": img_id, "category_id": int(cat_ids[l]) if cat_ids is not None else int(l), "bbox": b, "score": s}
            if file_names is not None:
                r["file_name"] = str(file_names[i])
            out.append(r)
    return out


def save_results(path: str | Path, results: list[dict]) -> None:
    """Write a COCO results list atomically (a killed run never leaves half a file)."""
    atomic_write_text(path, json.dumps(results))


def read_json(path: str | Path):
    """``json.load`` with one-line DataErrors: missing file, unreadable file, bad JSON (line, column)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read: {e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None


def _is_id(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_bbox(path, where: str, bbox) -> None:
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(is_finite_number(v) for v in bbox)):
        raise DataError(f"{path}: {where}: bbox must be 4 numbers [x, y, w, h], got {json.dumps(bbox)[:80]}")
    if bbox[2] < 0 or bbox[3] < 0:
        raise DataError(f"{path}: {where}: bbox has negative width or height: {bbox}")


def load_coco_gt(path: str | Path) -> dict:
    """Read and check a COCO instances JSON; returns the dataset dict, ready for pycocotools.

    Checks: ``images``/``annotations``/``categories`` lists; integer, unique image and category
    ids; each annotation's ``image_id``/``category_id`` known and ``bbox`` 4 numbers with
    non-negative size. Fills what pycocotools needs but hand-made files often lack: ``area``
    (box area), ``iscrowd`` (0) and annotation ``id`` (sequential).
    """
    data = read_json(path)
    if not isinstance(data, dict):
        hint = " (this is a list: a results file? pass it as --pred)" if isinstance(data, list) else ""
        raise DataError(f"{path}: a COCO ground-truth file is a JSON object with images/annotations/categories{hint}")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise DataError(f"{path}: missing list {key!r}")
    img_ids: set = set()
    for i, im in enumerate(data["images"]):
        if not isinstance(im, dict) or not _is_id(im.get("id")):
            raise DataError(f"{path}: images[{i}]: needs an integer 'id'")
        if im["id"] in img_ids:
            raise DataError(f"{path}: images[{i}]: duplicate image id {im['id']}")
        img_ids.add(im["id"])
    cat_ids: set = set()
    for i, c in enumerate(data["categories"]):
        if not isinstance(c, dict) or not _is_id(c.get("id")):
            raise DataError(f"{path}: categories[{i}]: needs an integer 'id'")
        if c["id"] in cat_ids:
            raise DataError(f"{path}: categories[{i}]: duplicate category id {c['id']}")
        c.setdefault("name", str(c["id"]))
        cat_ids.add(c["id"])
    used_ids = {a.get("id") for a in data["annotations"] if isinstance(a, dict)}
    next_id = max([v for v in used_ids if _is_id(v)], default=0) + 1
    for i, a in enumerate(data["annotations"]):
        where = f"annotations[{i}]"
        if not isinstance(a, dict):
            raise DataError(f"{path}: {where}: not an object")
        for key in ("image_id", "category_id", "bbox"):
            if key not in a:
                raise DataError(f"{path}: {where}: missing {key!r}")
        if a["image_id"] not in img_ids:
            raise DataError(f"{path}: {where}: unknown image_id {a['image_id']!r} (not in 'images')")
        if a["category_id"] not in cat_ids:
            raise DataError(f"{path}: {where}: unknown category_id {a['category_id']!r} (not in 'categories')")
        _check_bbox(path, where, a["bbox"])
        a.setdefault("area", float(a["bbox"][2] * a["bbox"][3]))
        a.setdefault("iscrowd", 0)
        if not is_finite_number(a["area"]) or a["area"] < 0:
            raise DataError(f"{path}: {where}: area must be a non-negative number, got {json.dumps(a['area'])[:40]}")
        if a["iscrowd"] not in (0, 1) or isinstance(a["iscrowd"], float):
            raise DataError(f"{path}: {where}: iscrowd must be 0 or 1, got {json.dumps(a['iscrowd'])[:40]}")
        if "difficult" in a and a["difficult"] not in (0, 1):
            raise DataError(f"{path}: {where}: difficult must be 0 or 1, got {json.dumps(a['difficult'])[:40]}")
        if not _is_id(a.get("id")):
            a["id"] = next_id
            next_id += 1
    return data


def load_results(path: str | Path, gt: dict | None = None) -> list[dict]:
    """Read and check a COCO results JSON list.

    Each item needs an ``image_id``, an integer ``category_id``, a ``bbox`` of 4 numbers and a
    numeric ``score``. With ``gt`` (a dict from :func:`load_coco_gt`) the results are matched
    to it (:func:`visionkit.metrics.align.align_results`: images by ``file_name`` and classes by
    ``category_name`` when the results carry them, else by id) and come back with the GT's ids.
    """
    data = read_json(path)
    if not isinstance(data, list):
        hint = " (is this a ground-truth file? pass it as --gt)" if isinstance(data, dict) and "annotations" in data else ""
        raise DataError(f"{path}: a COCO results file is a JSON list of detections{hint}")
    for i, r in enumerate(data):
        where = f"item {i}"
        if not isinstance(r, dict):
            raise DataError(f"{path}: {where}: not an object")
        for key in ("image_id", "category_id", "bbox", "score"):
            if key not in r:
                raise DataError(f"{path}: {where}: missing {key!r}")
        if not _is_id(r["category_id"]):
            raise DataError(f"{path}: {where}: category_id must be an integer, got {r['category_id']!r}")
        _check_bbox(path, where, r["bbox"])
        if not is_finite_number(r["score"]):
            raise DataError(f"{path}: {where}: score must be a number, got {r['score']!r}")
    if gt is not None:
        data, _ = align_results(data, gt, path)
    return data


def coco_to_arrays(gt: dict, results: list[dict]):
    """COCO GT dict + results list -> per-image arrays for :func:`visionkit.metrics.voc.voc_evaluate`.

    Returns ``(gts, preds, classes, cat_ids)``: one dict per GT image (file order) with
    ``boxes`` xyxy (``[x, y, w, h]`` read as corners ``(x, y, x + w, y + h)``), ``labels``
    1..K in the order of ``gt["categories"]``, ``difficult``; preds with ``scores``.
    ``difficult`` is the annotation's optional ``difficult`` key, and ``iscrowd`` annotations
    also count as difficult: a crowd region neither rewards nor punishes a detection, which is
    how the VOC devkit treats difficult objects.
    """
    cats = gt["categories"]
    cat_ids = [c["id"] for c in cats]
    label_of = {cid: k + 1 for k, cid in enumerate(cat_ids)}
    names = [str(c.get("name", c["id"])) for c in cats]
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    classes = [n if seen[n] == 1 else f"{n} (id {cid})" for n, cid in zip(names, cat_ids)]
    index = {im["id"]: i for i, im in enumerate(gt["images"])}
    n = len(index)
    g_rows: list[list] = [[] for _ in range(n)]
    for a in gt["annotations"]:
        g_rows[index[a["image_id"]]].append(a)
    p_rows: list[list] = [[] for _ in range(n)]
    for r in results:
        p_rows[index[r["image_id"]]].append(r)

    def corners(items):
        b = np.array([x["bbox"] for x in items], dtype=np.float64).reshape(-1, 4)
        b[:, 2:] += b[:, :2]
        return b

    gts = [
        {
            "boxes": corners(rows),
            "labels": np.array([label_of[a["category_id"]] for a in rows], dtype=np.int64),
            "difficult": np.array([bool(a.get("difficult", False)) or bool(a.get("iscrowd", 0)) for a in rows], dtype=bool),
        }
        for rows in g_rows
    ]
    preds = [
        {
            "boxes": corners(rows),
            "labels": np.array([label_of[r["category_id"]] for r in rows], dtype=np.int64),
            "scores": np.array([r["score"] for r in rows], dtype=np.float64),
        }
        for rows in p_rows
    ]
    return gts, preds, classes, cat_ids
