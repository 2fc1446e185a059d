"""Data sets written to attack or confuse the readers: paths out of the data root, COCO ids
that collide or point nowhere. Each case is built here, and each must end in a listed issue
(or a one-line error under --strict), never in a file read from outside the root or in boxes
given to the wrong image."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.data.fixtures import make_captions, make_coco, make_masks, make_voc, write_image
from visionkit.cli import main
from visionkit.data.captions import CocoCaptions
from visionkit.data.coco import COCODetection
from visionkit.data.masks import masks as masks_reader
from visionkit.data.voc import VOCDetection
from visionkit.errors import DataError

SECRET = "secret.jpg"


def _secret_outside(tmp_path) -> Path:
    """An image beside (not inside) the data root: what a traversal would reach."""
    write_image(tmp_path / SECRET, np.full((8, 8, 3), 200, np.uint8))
    return tmp_path / "data"


def _rewrite(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("file_name", ["../../secret.jpg", "sub/../../../secret.jpg", "/etc/passwd"])
def test_coco_file_name_cannot_leave_the_image_folder(tmp_path, file_name):
    root = _secret_outside(tmp_path)
    make_coco(root)
    _rewrite(root / "annotations" / "instances_train.json",
             lambda d: d["images"].append({"id": 77, "file_name": file_name, "width": 8, "height": 8}))
    ds = COCODetection(root, "train")
    assert [Path(it.path).name for it in ds.items] == ["a.jpg", "b b.jpg", "neg.jpg"]
    assert ds.issues.counts()["outside_root"] == 1
    with pytest.raises(DataError, match="points outside"):
        COCODetection(root, "train", strict=True)


def test_convert_does_not_copy_a_file_from_outside_the_root(tmp_path, capsys):
    root = _secret_outside(tmp_path)
    make_coco(root)
    _rewrite(root / "annotations" / "instances_train.json",
             lambda d: d["images"].append({"id": 77, "file_name": "../../secret.jpg", "width": 8, "height": 8}))
    out = tmp_path / "out"
    code = main(["data", "convert", str(root), str(out), "--to", "yolo", "--from", "coco", "--split", "train"])
    assert not [p for p in out.rglob("*") if p.name == SECRET]
    assert code == 1 and "points outside" in capsys.readouterr().out


def test_voc_filename_and_list_ids_cannot_leave_the_root(tmp_path):
    root = _secret_outside(tmp_path)
    make_voc(root)
    xml = root / "Annotations" / "img_002.xml"
    xml.write_text(xml.read_text().replace("<filename>img_002.jpg</filename>", "<filename>../../secret.jpg</filename>"))
    (root / "JPEGImages" / "img_002.jpg").unlink()  # so the reader falls back to <filename>
    lst = root / "ImageSets" / "Main" / "train.txt"
    lst.write_text(lst.read_text() + "../../../secret\n")
    ds = VOCDetection(root, "train")
    assert SECRET not in [Path(it.path).name for it in ds.items] and len(ds.items) == 3
    assert ds.issues.counts()["outside_root"] == 2


def test_mask_list_and_caption_paths_cannot_leave_the_root(tmp_path):
    root = _secret_outside(tmp_path)
    make_masks(root)
    good = (root / "train.txt").read_text().splitlines()[0]
    (root / "train.txt").write_text(f"../secret.jpg train/0.png\n{good}\none two three\n")
    ds = masks_reader(str(root), "train", classes=["a", "b", "c", "d"])
    assert len(ds) == 1 and ds.issues.counts() == {"outside_root": 1, "malformed": 1}
    with pytest.raises(DataError, match=r"train.txt:1: path '../secret.jpg' points outside"):
        masks_reader(str(root), "train", classes=["a", "b", "c", "d"], strict=True)
    cap_root = tmp_path / "caps"
    make_captions(cap_root)
    _rewrite(cap_root / "captions_train.json", lambda d: d["images"][0].update(file_name="../../secret.jpg"))
    ds = CocoCaptions(cap_root, "train", min_freq=1)
    assert ds.issues.counts()["outside_root"] == 1 and [i for i, _, _ in ds.images] == [2]


def test_coco_duplicate_image_ids_are_refused_not_merged(tmp_path, capsys):
    make_coco(tmp_path)
    write_image(tmp_path / "train" / "twin.jpg", np.zeros((60, 80, 3), np.uint8))
    _rewrite(tmp_path / "annotations" / "instances_train.json",
             lambda d: d["images"].append({"id": 5, "file_name": "twin.jpg", "width": 80, "height": 60}))
    ds = COCODetection(tmp_path, "train")
    assert [Path(it.path).name for it in ds.items] == ["b b.jpg", "neg.jpg"]  # neither id-5 image is trusted
    assert ds.issues.counts()["duplicate_id"] == 2
    assert main(["data", "check", str(tmp_path), "--format", "coco", "--split", "train", "--strict"]) != 0
    assert "image id 5 is used by 2 image entries" in capsys.readouterr().err


def test_coco_annotations_of_unlisted_images_are_reported(tmp_path):
    make_coco(tmp_path)
    _rewrite(tmp_path / "annotations" / "instances_train.json", lambda d: d["annotations"].append(
        {"id": 50, "image_id": 404, "category_id": 3, "bbox": [1, 1, 5, 5], "iscrowd": 0}))
    ds = COCODetection(tmp_path, "train")
    assert ds.issues.counts()["orphan_annotation"] == 1 and ds.num_boxes() == 3
    with pytest.raises(DataError, match=r"1 annotation\(s\) refer to image ids with no image entry \(404\)"):
        COCODetection(tmp_path, "train", strict=True)


def test_a_typo_class_in_voc_without_a_class_list_is_reported(tmp_path):
    images = {f"i{k}": (40, 40, [("bird", [2, 2, 20, 20], False)]) for k in range(10)}
    images["odd"] = (40, 40, [("birb", [2, 2, 20, 20], False)])
    make_voc(tmp_path, images)
    ds = VOCDetection(tmp_path, "train")
    assert ds.classes == ["bird", "birb"] or ds.classes == ["birb", "bird"]
    (issue,) = ds.issues.of("suspect_class")
    assert "'birb' (1 object(s)) looks like a typo of 'bird' (10)" in issue.message
    with pytest.raises(DataError, match="looks like a typo"):
        VOCDetection(tmp_path, "train", strict=True)
