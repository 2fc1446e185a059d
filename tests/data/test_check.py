import pytest

from visionkit.data.check import check_dataset, detect_format, detect_splits, format_report
from visionkit.errors import DataError

from .fixtures import make_captions, make_coco, make_idx, make_masks, make_voc, make_voc_masks, make_yolo


@pytest.mark.parametrize("maker,fmt,splits", [
    (lambda r: make_voc(r, splits={"train": ["img_002"], "val": ["img_003"], "test": ["img 001"]}), "voc", ["train", "val", "test"]),
    (make_coco, "coco", ["train"]),
    (make_yolo, "yolo", ["train"]),
    (make_masks, "masks", ["train"]),
    (make_voc_masks, "voc_masks", ["train"]),
    (make_captions, "coco_captions", ["train", "test"]),
    (make_idx, "idx", ["train", "test"]),
])
def test_detect_format_and_splits(tmp_path, maker, fmt, splits):
    maker(tmp_path)
    assert detect_format(tmp_path) == fmt
    assert detect_splits(tmp_path, fmt) == splits


def test_unknown_layout(tmp_path):
    (tmp_path / "x.txt").write_text("hello\n")
    with pytest.raises(DataError, match="cannot tell the data set's format"):
        detect_format(tmp_path)


def test_check_counts_and_report(tmp_path):
    make_coco(tmp_path)
    fmt, reports, issues = check_dataset(tmp_path)
    [r] = reports
    assert fmt == "coco" and r.items == 3 and r.unlabeled == 1 and r.unreadable == 0
    assert r.per_class == {"cat": 1, "dog": 1, "bird": 1}
    text = format_report(fmt, tmp_path, reports, issues)
    assert "split train: 3 items, 3 boxes, 1 images without labels" in text
    assert "info no_labels: 1" in text and "neg.jpg" in text


def test_check_segmentation_pixels(tmp_path):
    written = make_masks(tmp_path, n=2, classes=3)
    _, [r], _ = check_dataset(tmp_path, classes=["a", "b", "c"])
    assert r.per_class["a"] == sum(int((m == 0).sum()) for m in written)
    assert r.extra["ignored_pixels"] == sum(int((m == 255).sum()) for m in written)
