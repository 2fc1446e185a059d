import json

import numpy as np
import pytest

from visionkit.data.coco import COCODetection
from visionkit.errors import DataError

from .fixtures import make_coco


def test_category_ids_mapped_and_back(tmp_path):
    make_coco(tmp_path)
    ds = COCODetection(tmp_path, "train")
    assert ds.classes == ["cat", "dog", "bird"]  # in increasing category id: 3, 7, 11
    assert ds.cat_ids == {1: 3, 2: 7, 3: 11} and ds.label_of == {3: 1, 7: 2, 11: 3}
    _, t = ds.raw(0)
    np.testing.assert_allclose(t["boxes"], [[10, 10, 40, 30], [50, 20, 75, 55]])  # xywh -> xyxy
    assert t["labels"].tolist() == [1, 3] and t["iscrowd"].tolist() == [False, True]
    assert t["image_id"] == 5
    _, t = ds.raw(2)  # the image without annotations is a negative
    assert t["boxes"].shape == (0, 4) and t["image_id"] == 12
    assert ds.raw(1)[1]["path"].endswith("b b.jpg")
    assert ds.issues.counts()["no_labels"] == 1


def test_skip_crowd_and_masks(tmp_path):
    make_coco(tmp_path)
    assert COCODetection(tmp_path, "train", skip_crowd=True).num_boxes() == 2
    ds = COCODetection(tmp_path, "train", masks=True)
    _, t = ds.raw(0)
    assert t["masks"].shape == (2, 60, 80)
    assert 500 <= t["masks"][0].sum() <= 700  # the 30x20 polygon


def test_malformed_json_names_line(tmp_path):
    make_coco(tmp_path)
    p = tmp_path / "annotations" / "instances_train.json"
    text = p.read_text().splitlines()
    text[5] = text[5] + " ,,"
    p.write_text("\n".join(text))
    with pytest.raises(DataError, match=r"instances_train.json:6: malformed JSON"):
        COCODetection(tmp_path, "train")


def test_unknown_category_and_bad_bbox(tmp_path):
    data = make_coco(tmp_path)
    data["annotations"].append({"id": 9, "image_id": 9, "category_id": 99, "bbox": [1, 1, 5, 5], "iscrowd": 0})
    data["annotations"].append({"id": 10, "image_id": 9, "category_id": 3, "bbox": [1, 1], "iscrowd": 0})
    data["annotations"].append({"id": 11, "image_id": 9, "category_id": 3, "bbox": [60, 40, 30, 30], "iscrowd": 0})
    (tmp_path / "annotations" / "instances_train.json").write_text(json.dumps(data))
    ds = COCODetection(tmp_path, "train")
    c = ds.issues.counts()
    assert c["unknown_class"] == 1 and c["malformed"] == 1 and c["box_clipped"] == 1
    np.testing.assert_allclose(ds.raw(1)[1]["boxes"][-1], [60, 40, 70, 50])


def test_not_a_coco_file(tmp_path):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances_train.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="not a COCO file"):
        COCODetection(tmp_path, "train")
