import numpy as np
import pytest

from visionkit.data.masks import VOC_SEG_CLASSES, masks, voc_masks
from visionkit.errors import DataError

from .fixtures import make_masks, make_voc_masks, write_image


def test_list_file_pairs(tmp_path):
    written = make_masks(tmp_path, n=3, classes=4)
    ds = masks(str(tmp_path), "train", classes=["a", "b", "c", "d"])
    assert len(ds) == 3 and ds.task == "segmentation" and ds.ignore_index == 255
    for i in range(3):
        image, t = ds.raw(i)
        assert t["masks"].dtype == np.int64 and t["masks"].shape == image.shape[:2]
        np.testing.assert_array_equal(t["masks"], written[i])  # no background shift: values as stored
    assert not ds.issues.counts()


def test_folders_paired_by_stem_and_classes_file(tmp_path):
    make_masks(tmp_path, n=2, classes=3)
    (tmp_path / "train.txt").unlink()
    (tmp_path / "classes.txt").write_text("road\ncar\nsky\n")
    ds = masks(str(tmp_path), "train")
    assert ds.classes == ["road", "car", "sky"] and len(ds) == 2


def test_out_of_range_values_become_ignore(tmp_path):
    make_masks(tmp_path, n=1, classes=4, ignore=11)
    ds = masks(str(tmp_path), "train", classes=["a", "b", "c"], ignore_index=11)  # value 3 is out of range
    _, t = ds.raw(0)
    assert set(np.unique(t["masks"]).tolist()) <= {0, 1, 2, 11}
    [issue] = ds.issues.of("mask_out_of_range")
    assert "[3]" in issue.message and issue.file.endswith("f0.png")
    with pytest.raises(DataError, match="strict"):
        masks(str(tmp_path), "train", classes=["a", "b", "c"], ignore_index=11, strict=True).raw(0)


def test_size_mismatch_and_missing_classes(tmp_path):
    make_masks(tmp_path, n=1)
    write_image(tmp_path / "trainannot/f0.png", np.zeros((5, 5), np.uint8))
    with pytest.raises(DataError, match="mask is 5x5"):
        masks(str(tmp_path), "train", classes=list("abcd")).raw(0)
    with pytest.raises(DataError, match="needs class names"):
        masks(str(tmp_path), "train")


def test_voc_palette_masks(tmp_path):
    written = make_voc_masks(tmp_path)
    ds = voc_masks(str(tmp_path), "train")
    assert ds.classes == VOC_SEG_CLASSES and len(ds.classes) == 21
    _, t = ds.raw(1)
    np.testing.assert_array_equal(t["masks"], written[1])  # palette indices, 255 border kept as ignore
