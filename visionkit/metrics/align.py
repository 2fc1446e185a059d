"""Match a results file's images and classes to the ground truth's before scoring.

A results file and a ground-truth file made by different tools rarely share ids: ``visionkit
detect`` numbers its inputs 1..N in the order given, a converter numbers GT images in sorted
order, and category ids follow whichever class list each tool read. Scoring by raw ids then
gives a wrong mAP with no error. So:

* **images** are matched by ``file_name`` when every result carries one and the ground truth
  names its images: the GT image whose ``file_name`` equals it, else the one that is a path
  suffix of it (``runs/x/BloodImage_1.jpg`` ends with GT's ``BloodImage_1.jpg``), else the one
  with the same basename. A name that fits two GT images, or none, is refused. Without
  ``file_name`` the results' ``image_id`` must be a GT image id (the COCO convention).
* **classes** are matched by name when every result carries ``category_name`` and the GT's
  categories have names; a name the GT does not have, or one id used with two names, is
  refused. Otherwise ``category_id`` must be a GT category id.

Each refusal is one :class:`~visionkit.errors.DataError` line naming the file, the item and
what did not match. Written here because pycocotools and the VOC devkit both take ids as given.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import PurePosixPath

from ..errors import DataError


def _norm(name) -> str:
    text = str(name).replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text


def _image_index(gt: dict):
    exact: dict[str, list[int]] = defaultdict(list)
    base: dict[str, list[int]] = defaultdict(list)
    for im in gt["images"]:
        name = im.get("file_name")
        if isinstance(name, str) and name:
            exact[_norm(name)].append(im["id"])
            base[PurePosixPath(_norm(name)).name].append(im["id"])
    return exact, base


def _match_image(name: str, exact, base) -> list[int]:
    name = _norm(name)
    if name in exact:
        return exact[name]
    parts = PurePosixPath(name).parts
    for k in range(1, len(parts)):  # the longest GT path that the result's path ends with
        suffix = "/".join(parts[k:])
        if suffix in exact:
            return exact[suffix]
    return base.get(PurePosixPath(name).name, [])


def gt_image_ids(gt: dict):
    """``name -> GT image id`` for file names (exact, path suffix, then basename), raising
    ``KeyError`` with the reason when a name matches no GT image or several."""
    exact, base = _image_index(gt)

    def lookup(name: str) -> int:
        ids = _match_image(name, exact, base)
        if len(ids) != 1:
            raise KeyError("no image" if not ids else f"{len(ids)} images (ids {sorted(ids)[:4]})")
        return ids[0]

    return lookup


def align_results(results: list[dict], gt: dict, path) -> tuple[list[dict], dict]:
    """``(results with GT image and category ids, how)``; ``how`` says what each was matched
    by: ``{"images": "file_name" | "image_id", "categories": "name" | "id"}``. The input list is
    not changed."""
    out = [dict(r) for r in results]
    how = {"images": "image_id", "categories": "id"}
    exact, base = _image_index(gt)
    if out and exact and all(isinstance(r.get("file_name"), str) and r["file_name"] for r in out):
        how["images"] = "file_name"
        cache: dict[str, int] = {}
        for i, r in enumerate(out):
            name = r["file_name"]
            if name not in cache:
                ids = _match_image(name, exact, base)
                if len(ids) != 1:
                    what = "no image" if not ids else f"{len(ids)} images (ids {sorted(ids)[:4]})"
                    raise DataError(f"{path}: item {i}: file_name {name!r} matches {what} of the ground truth")
                cache[name] = ids[0]
            r["image_id"] = cache[name]
    else:
        img_ids = {im["id"] for im in gt["images"]}
        for i, r in enumerate(out):
            if r["image_id"] not in img_ids:
                raise DataError(f"{path}: item {i}: unknown image_id {r['image_id']!r} (not in the ground truth; "
                                "add file_name to match images by name)")
    by_name = {str(c["name"]): c["id"] for c in gt["categories"] if c.get("name") is not None}
    if out and len(by_name) == len(gt["categories"]) and all(isinstance(r.get("category_name"), str) for r in out):
        how["categories"] = "name"
        seen: dict = {}
        for i, r in enumerate(out):
            name = r["category_name"]
            if seen.setdefault(r["category_id"], name) != name:
                raise DataError(f"{path}: item {i}: category_id {r['category_id']} is named both "
                                f"{seen[r['category_id']]!r} and {name!r}")
            if name not in by_name:
                raise DataError(f"{path}: item {i}: category {name!r} is not a class of the ground truth "
                                f"({', '.join(sorted(by_name)[:8])})")
            r["category_id"] = by_name[name]
    else:
        cat_ids = {c["id"] for c in gt["categories"]}
        for i, r in enumerate(out):
            if r["category_id"] not in cat_ids:
                raise DataError(f"{path}: item {i}: unknown category_id {r['category_id']!r} (not in the ground truth)")
    return out, how
