"""Numbers that are not numbers: every reader turns them into a listed issue (or a one-line
error from the CLI), never a traceback."""

from __future__ import annotations

import json
import struct
import zlib

import pytest

from tests.data.fixtures import make_coco, make_voc, make_yolo
from visionkit.cli import main
from visionkit.data.coco import COCODetection
from visionkit.data.image import image_size
from visionkit.data.validate import BadFile
from visionkit.data.voc import VOCDetection
from visionkit.data.yolo import YOLODetection


@pytest.mark.parametrize("bbox", [["a", 1, 2, 3], [None, 1, 2, 3], [1, 2, 3, float("inf")], [{}, 1, 2, 3]])
def test_coco_bbox_that_is_not_numbers(tmp_path, bbox):
    data = make_coco(tmp_path)
    data["annotations"][0]["bbox"] = bbox
    (tmp_path / "annotations" / "instances_train.json").write_text(json.dumps(data))
    ds = COCODetection(tmp_path, "train")
    assert ds.issues.counts()["malformed"] == 1 and ds.num_boxes() == 2


def test_coco_image_size_of_1e400(tmp_path):
    make_coco(tmp_path)
    p = tmp_path / "annotations" / "instances_train.json"
    p.write_text(p.read_text().replace('"width": 80', '"width": 1e400'))
    ds = COCODetection(tmp_path, "train")
    assert ds.issues.counts()["malformed"] == 1 and len(ds) == 2


@pytest.mark.parametrize("tag, value", [("width", "inf"), ("xmin", "nan"), ("ymax", "-inf"), ("height", "1e400")])
def test_voc_values_that_are_not_finite(tmp_path, tag, value):
    make_voc(tmp_path)
    xml = tmp_path / "Annotations" / "img_002.xml"
    text = xml.read_text()
    start = text.index(f"<{tag}>") + len(tag) + 2
    xml.write_text(text[:start] + value + text[text.index(f"</{tag}>", start):])
    ds = VOCDetection(tmp_path, "train")  # size falls back to the image's; a bad box skips the image
    assert len(ds) in (3, 4) and all(len(it.boxes) == 0 or (it.boxes == it.boxes).all() for it in ds.items)
    if tag in ("xmin", "ymax"):
        assert ds.issues.counts()["malformed"] == 1


@pytest.mark.parametrize("line", ["inf 0.5 0.5 0.1 0.1", "1e400 0.5 0.5 0.1 0.1", "0 nan 0.5 0.1 0.1", "0 0.5 0.5 inf 0.1"])
def test_yolo_values_that_are_not_finite(tmp_path, line):
    make_yolo(tmp_path)
    lbl = tmp_path / "labels" / "train" / "b.txt"
    lbl.write_text(line + "\n")
    ds = YOLODetection(tmp_path, "train")
    assert ds.issues.counts()["malformed"] == 1 and ds.num_boxes() == 2


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk)) + end


def test_a_header_that_claims_a_huge_image(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(_png_header(20000, 20000))
    with pytest.raises(BadFile, match="bomb.png: image too large to read safely"):
        image_size(p)


@pytest.mark.parametrize("key, value, message", [
    ("area", "big", "area must be a non-negative number"),
    ("iscrowd", "yes", "iscrowd must be 0 or 1"),
    ("difficult", [1], "difficult must be 0 or 1"),
])
def test_score_gt_fields_of_the_wrong_type(tmp_path, capsys, key, value, message):
    gt = {"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], key: value}]}
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "res.json").write_text(json.dumps([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 1}]))
    assert main(["score", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "res.json")]) == 2
    err = capsys.readouterr().err
    assert message in err and "annotations[0]" in err and err.count("\n") == 1
