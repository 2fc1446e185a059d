"""Property-based tests (hypothesis): whatever an annotation file holds, a reader either builds
its data set, listing what it skipped, or raises the project's own DataError. No other
exception, and no image path outside the data root."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.data.fixtures import make_coco, make_voc, make_yolo, write_image
from visionkit.data.coco import COCODetection
from visionkit.data.voc import VOCDetection
from visionkit.data.yolo import YOLODetection
from visionkit.errors import DataError
from visionkit.metrics.align import align_results
from visionkit.metrics.results import load_coco_gt, load_results

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["../x.jpg", "/etc/passwd", "a.jpg", "1e400", "inf"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=5)),
                           max_leaves=20)


def _template(tmp: Path, make) -> Path:
    """A valid data set made once, copied for each example (the readers never write)."""
    root = tmp / "root"
    make(root)
    return root


def _inside(ds, root: Path) -> None:
    top = (root).resolve()
    for it in ds.items:
        assert top in Path(it.path).resolve().parents, it.path


def _fresh(template: Path) -> Path:
    tmp = Path(tempfile.mkdtemp())
    shutil.copytree(template, tmp / "root")
    write_image(tmp / "outside.jpg", np.zeros((8, 8, 3), np.uint8))
    return tmp / "root"


# ids drawn mostly from the template's own (images 5, 9, 12; categories 3, 7, 11), so that the
# odd values reach the per-item code instead of failing the whole file at its first check
image_ids = st.one_of(st.sampled_from([5, 9, 12, 77]), scalars)
coco_image = st.fixed_dictionaries({"id": image_ids, "file_name": st.one_of(st.sampled_from(["a.jpg", "neg.jpg"]), scalars)},
                                   optional={"width": scalars, "height": scalars})
coco_ann = st.fixed_dictionaries({"image_id": image_ids, "category_id": st.one_of(st.sampled_from([3, 7, 11]), scalars),
                                  "bbox": st.one_of(st.lists(scalars, min_size=4, max_size=4), scalars, st.lists(scalars, max_size=5))},
                                 optional={"iscrowd": scalars, "id": scalars, "area": scalars})
coco_cats = st.one_of(st.just([]), st.lists(st.fixed_dictionaries({"id": scalars, "name": scalars}), max_size=2))


@SETTINGS
@given(images=st.lists(coco_image, max_size=4), anns=st.lists(coco_ann, max_size=6),
       cats=coco_cats, top=st.one_of(st.none(), json_values))
def test_coco_reader_raises_only_data_errors(tmp_path, images, anns, cats, top):
    template = tmp_path / "root"
    if not template.exists():
        make_coco(template)
    root = _fresh(template)
    base = json.loads((root / "annotations" / "instances_train.json").read_text())
    data = {"images": base["images"] + images, "annotations": base["annotations"] + anns,
            "categories": base["categories"] + cats}
    (root / "annotations" / "instances_train.json").write_text(json.dumps(top if isinstance(top, list) else data))
    try:
        ds = COCODetection(root, "train")
    except DataError:
        return
    _inside(ds, root)


voc_text = st.one_of(st.text(max_size=12), st.sampled_from(["inf", "nan", "-1", "1e400", "10", "../../outside.jpg", ""]))


@SETTINGS
@given(fields=st.dictionaries(st.sampled_from(["filename", "width", "height", "name", "xmin", "ymin", "xmax", "ymax",
                                               "difficult"]), voc_text, max_size=6),
       ids=st.lists(st.sampled_from(["img_002", "../outside", "/etc/passwd", "img 001", "nope"]), max_size=3))
def test_voc_reader_raises_only_data_errors(tmp_path, fields, ids):
    template = tmp_path / "root"
    if not template.exists():
        make_voc(template)
    root = _fresh(template)
    xml = root / "Annotations" / "img_002.xml"
    text = xml.read_text()
    for tag, value in fields.items():
        start = text.index(f"<{tag}>") + len(tag) + 2 if f"<{tag}>" in text else -1
        if start > 0:
            value = value.replace("<", "&lt;").replace("&", "&amp;") if "<" in value else value
            text = text[:start] + value + text[text.index(f"</{tag}>", start):]
    xml.write_text(text, encoding="utf-8")
    lst = root / "ImageSets" / "Main" / "train.txt"
    lst.write_text(lst.read_text() + "".join(f"{i}\n" for i in ids))
    try:
        ds = VOCDetection(root, "train")
    except DataError:
        return
    _inside(ds, root)
    for it in ds.items:
        assert np.isfinite(np.asarray(it.boxes, np.float64)).all()


tokens = st.sampled_from(["0", "1", "2", "9", "-1", "inf", "nan", "1e400", "0.5", "x", "1.5"])


@SETTINGS
@given(lines=st.lists(st.one_of(st.lists(tokens, min_size=5, max_size=5).map(" ".join), st.text(max_size=30),
                                st.lists(tokens, min_size=1, max_size=6).map(" ".join)), max_size=5))
def test_yolo_reader_raises_only_data_errors(tmp_path, lines):
    template = tmp_path / "root"
    if not template.exists():
        make_yolo(template)
    root = _fresh(template)
    (root / "labels" / "train" / "b.txt").write_text("\n".join(lines), encoding="utf-8")
    try:
        ds = YOLODetection(root, "train")
    except DataError:
        return
    for it in ds.items:
        assert np.isfinite(np.asarray(it.boxes, np.float64)).all()


result_item = st.fixed_dictionaries({"image_id": scalars, "category_id": scalars, "bbox": st.one_of(scalars, st.lists(scalars, max_size=5)),
                                     "score": scalars}, optional={"file_name": scalars, "category_name": scalars})


@SETTINGS
@given(results=st.one_of(json_values, st.lists(result_item, max_size=5)))
def test_score_inputs_raise_only_data_errors(tmp_path, results):
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
                              "categories": [{"id": 1, "name": "cat"}, {"id": 5, "name": "dog"}],
                              "annotations": [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [1, 2, 3, 4]}]}))
    res = tmp_path / "res.json"
    res.write_text(json.dumps(results))
    try:
        aligned, _ = align_results(load_results(res), load_coco_gt(gt), res)
    except DataError:
        return
    assert {r["image_id"] for r in aligned} <= {1, 2} and {r["category_id"] for r in aligned} <= {1, 5}
