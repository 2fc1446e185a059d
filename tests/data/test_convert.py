import json

import numpy as np
import pytest

from visionkit.data.coco import COCODetection
from visionkit.data.convert import convert
from visionkit.data.voc import VOCDetection
from visionkit.data.yolo import YOLODetection
from visionkit.errors import DataError

from .fixtures import make_coco


def test_coco_to_voc_marks_crowd_as_difficult(tmp_path):
    make_coco(tmp_path / "c")
    written, issues = convert(tmp_path / "c", "coco", tmp_path / "v", "voc", ["train"])
    assert written == {"train": 3}
    voc = VOCDetection(tmp_path / "v", "train")
    assert voc.classes == ["cat", "dog", "bird"]  # classes.txt keeps the source order
    _, t = voc.raw(0)
    assert t["labels"].tolist() == [1, 3] and t["difficult"].tolist() == [False, True]
    np.testing.assert_allclose(t["boxes"], [[10, 10, 40, 30], [50, 20, 75, 55]])


def test_coco_to_yolo_skips_crowd_and_coco_to_coco_keeps_ids(tmp_path):
    make_coco(tmp_path / "c")
    convert(tmp_path / "c", "coco", tmp_path / "y", "yolo", ["train"])
    y = YOLODetection(tmp_path / "y", "train")
    assert y.num_boxes() == 2 and y.classes == ["cat", "dog", "bird"]
    convert(tmp_path / "c", "coco", tmp_path / "c2", "coco", ["train"])
    data = json.loads((tmp_path / "c2/annotations/instances_train.json").read_text())
    assert sorted(c["id"] for c in data["categories"]) == [3, 7, 11]
    assert sorted(im["id"] for im in data["images"]) == [5, 9, 12]
    again = COCODetection(tmp_path / "c2", "train")
    assert again.num_boxes() == 3 and again.cat_ids == {1: 3, 2: 7, 3: 11}


def test_refuses_bad_formats_and_same_folder(tmp_path):
    make_coco(tmp_path / "c")
    with pytest.raises(DataError, match="not one of"):
        convert(tmp_path / "c", "coco", tmp_path / "o", "masks", ["train"])
    with pytest.raises(DataError, match="must differ"):
        convert(tmp_path / "c", "coco", tmp_path / "c", "voc", ["train"])
