"""Layout detection (visionkit.data.layout): each recognised folder layout gives its format,
reader options and splits, and the reader built from them reads every item with its classes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.data.fixtures import make_coco, make_masks, make_voc, make_yolo, write_image
from tests.data.folders import make_plain_voc, make_yolo_export
from visionkit.data.check import check_dataset, detect_format
from visionkit.data.layout import POOL, data_section, detect_layout, read_pool
from visionkit.errors import DataError


def test_capital_voc_with_imagesets(tmp_path):
    make_voc(tmp_path, splits={"train": ["img_002", "img_003"], "val": ["img 001"], "test": ["ünï_004"]})
    lay = detect_layout(tmp_path)
    assert (lay.format, lay.options, lay.splits) == ("voc", {}, ["train", "val", "test"])
    assert lay.roles() == {"train": "train", "val": "val", "test": "test"}


def test_lowercase_voc_without_splits_is_pooled(tmp_path):
    ids = make_plain_voc(tmp_path, 5, ("fox", "cat"))
    lay = detect_layout(tmp_path)
    assert lay.format == "voc" and lay.pooled and lay.roles() is None
    assert lay.options == {"annotations": "annotations", "images": "images", "sets": ""}
    ds = read_pool(tmp_path, lay)
    assert [ds.item_file(i) for i in range(len(ds))] == [f"images/{i}.jpg" for i in ids]
    assert ds.classes == ["cat", "fox"]
    # data check reads it (it said "cannot tell the data set's format" before)
    fmt, reports, issues = check_dataset(tmp_path)
    assert fmt == "voc" and [(r.split, r.items) for r in reports] == [(POOL, 5)]
    assert reports[0].per_class == {"cat": 2, "fox": 3} and len(issues.skipped_files) == 0


def test_lowercase_voc_png_images(tmp_path):
    make_plain_voc(tmp_path, 3, ext=".png")
    lay = detect_layout(tmp_path)
    assert lay.options["image_ext"] == ".png"
    assert len(read_pool(tmp_path, lay)) == 3


def test_coco_instances(tmp_path):
    make_coco(tmp_path, "train")
    make_coco(tmp_path, "val")
    lay = detect_layout(tmp_path)
    assert (lay.format, lay.options, lay.splits) == ("coco", {}, ["train", "val"])
    assert lay.roles() == {"train": "train", "val": "val", "test": "val"}


def test_coco_single_json_is_pooled(tmp_path):
    make_coco(tmp_path / "tmp", "images")
    shutil.move(tmp_path / "tmp" / "images", tmp_path / "images")
    shutil.move(tmp_path / "tmp" / "annotations" / "instances_images.json", tmp_path / "labels.json")
    lay = detect_layout(tmp_path)
    assert (lay.format, lay.options, lay.pooled) == ("coco", {"ann_file": "labels.json", "images": "images"}, True)
    ds = read_pool(tmp_path, lay)
    assert len(ds) == 3 and ds.classes == ["cat", "dog", "bird"]


def test_yolo_split_folders(tmp_path):
    make_yolo(tmp_path, "train")
    make_yolo(tmp_path, "val")
    lay = detect_layout(tmp_path)
    assert (lay.format, lay.options, lay.splits) == ("yolo", {}, ["train", "val"])


def test_yolo_flat_is_pooled(tmp_path):
    make_yolo(tmp_path / "y", "train")
    for sub in ("images", "labels"):
        shutil.move(tmp_path / "y" / sub / "train", tmp_path / sub)
    shutil.move(tmp_path / "y" / "classes.txt", tmp_path / "classes.txt")
    lay = detect_layout(tmp_path)
    assert (lay.format, lay.options, lay.pooled) == ("yolo", {"images": "images", "labels": "labels"}, True)
    assert len(read_pool(tmp_path, lay)) == 3


def test_yolo_train_valid_test_export_with_data_yaml(tmp_path):
    make_yolo_export(tmp_path)
    lay = detect_layout(tmp_path)
    assert lay.format == "yolo" and lay.splits == ["train", "valid", "test"]
    assert lay.options == {"images": "{split}/images", "labels": "{split}/labels", "names": "data.yaml"}
    assert lay.roles() == {"train": "train", "val": "valid", "test": "test"}
    fmt, reports, _ = check_dataset(tmp_path)
    assert [(r.split, r.items) for r in reports] == [("train", 2), ("valid", 2), ("test", 2)]
    assert reports[0].per_class == {"ant": 1, "bee": 1}
    section, _, how = data_section(tmp_path, tmp_path / "unused")
    assert (section["train"], section["val"], section["test"], section["classes"]) == ("train", "valid", "test", ["ant", "bee"])
    assert "own splits" in how and not (tmp_path / "unused").exists()


def test_yolo_export_with_train_only_is_split_at_random(tmp_path):
    make_yolo_export(tmp_path, ("train",), n=10)
    section, _, _ = data_section(tmp_path, tmp_path / "out", 0.2, 0.1, seed=0)
    assert section["options"] == {"images": "train/images", "labels": "train/labels", "names": "data.yaml"}
    counts = {k: len(Path(v).read_text().split()) for k, v in section["split_files"].items()}
    assert counts == {"train": 7, "val": 2, "test": 1}


def test_masks_list_files(tmp_path):
    make_masks(tmp_path, split="train")
    make_masks(tmp_path, split="val")
    (tmp_path / "classes.txt").write_text("a\nb\nc\nd\n")
    lay = detect_layout(tmp_path)
    assert (lay.format, lay.splits) == ("masks", ["train", "val"])


def test_mask_png_folders_are_pooled(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(4):
        write_image(tmp_path / "images" / f"m{i}.jpg", rng.integers(0, 255, (20, 24, 3), dtype=np.uint8))
        write_image(tmp_path / "masks" / f"m{i}.png", rng.integers(0, 3, (20, 24)).astype(np.uint8))
    (tmp_path / "classes.txt").write_text("bg\nroad\ncar\n")
    lay = detect_layout(tmp_path)
    assert (lay.format, lay.options, lay.pooled) == ("masks", {"images": "images", "masks": "masks"}, True)
    ds = read_pool(tmp_path, lay)
    assert [ds.item_file(i) for i in range(len(ds))] == [f"images/m{i}.jpg" for i in range(4)]
    assert ds.raw(0)[1]["masks"].shape == (20, 24)


def test_unknown_layout_is_one_clear_error(tmp_path):
    (tmp_path / "notes.md").write_text("hello")
    with pytest.raises(DataError, match="cannot tell the data set's format from its layout"):
        detect_format(tmp_path)
    with pytest.raises(DataError, match="no such folder"):
        detect_layout(tmp_path / "missing")


def test_coco_roboflow_export(tmp_path):
    for s in ("train", "valid"):
        data = make_coco(tmp_path / "tmp" / s, s)
        shutil.move(tmp_path / "tmp" / s / s, tmp_path / s)
        (tmp_path / s / "_annotations.coco.json").write_text(json.dumps(data))
    shutil.rmtree(tmp_path / "tmp")
    lay = detect_layout(tmp_path)
    assert (lay.format, lay.splits) == ("coco", ["train", "valid"])
    assert lay.options == {"ann_file": "{split}/_annotations.coco.json", "images": "{split}"}
    fmt, reports, _ = check_dataset(tmp_path)
    assert [(r.split, r.items) for r in reports] == [("train", 3), ("valid", 3)]


def test_user_classes_replace_the_missing_names(tmp_path):
    """A mask folder without classes.txt needs names: the user's data.classes are used."""
    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(tmp_path / "d" / "images" / f"m{i}.png", rng.integers(0, 255, (8, 8, 3), dtype=np.uint8))
        write_image(tmp_path / "d" / "masks" / f"m{i}.png", rng.integers(0, 2, (8, 8)).astype(np.uint8))
    with pytest.raises(DataError, match="needs class names"):
        data_section(tmp_path / "d", tmp_path / "s")
    section, _, _ = data_section(tmp_path / "d", tmp_path / "s", classes=["bg", "leaf"])
    assert section["classes"] == ["bg", "leaf"] and section["format"] == "masks"
