import numpy as np
import pytest

from visionkit.data.voc import VOCDetection, voc
from visionkit.errors import DataError

from .fixtures import VOC_IMAGES, make_voc, voc_xml


def test_reads_boxes_labels_difficult_and_unicode_ids(tmp_path):
    make_voc(tmp_path)
    ds = voc(str(tmp_path), "train")
    assert ds.classes == ["bird", "cat", "dog"]  # every name in Annotations/, sorted
    assert len(ds) == 4 and ds.task == "detection"
    image, t = ds.raw(0)
    assert image.shape == (60, 80, 3) and image.dtype == np.uint8
    np.testing.assert_allclose(t["boxes"], [[10, 10, 40, 30], [50, 20, 75, 55]])
    assert t["boxes"].dtype == np.float32 and t["labels"].dtype == np.int64
    assert t["labels"].tolist() == [2, 3] and t["difficult"].tolist() == [False, True]
    assert t["orig_size"] == (60, 80) and t["path"].endswith("img 001.jpg")
    # the rectangle drawn at the box is where the box says
    x1, y1, x2, y2 = t["boxes"][0].astype(int)
    assert image[y1 + 2:y2 - 2, x1 + 2:x2 - 2, 0].mean() > 150
    assert ds.raw(2)[1]["boxes"].shape == (0, 4)  # the negative image is kept
    assert ds.raw(3)[1]["path"].endswith("ünï_004.jpg")
    assert ds.class_counts() == {"bird": 1, "cat": 2, "dog": 2}


def test_given_classes_and_unknown_names_are_reported(tmp_path):
    make_voc(tmp_path)
    ds = VOCDetection(tmp_path, "train", classes=["cat", "dog"])
    unknown = ds.issues.of("unknown_class")
    assert len(unknown) == 1 and "'bird'" in unknown[0].message
    assert ds.num_boxes() == 4
    with pytest.raises(DataError, match="unknown class 'bird'"):
        VOCDetection(tmp_path, "train", classes=["cat", "dog"], strict=True)


def test_drop_difficult(tmp_path):
    make_voc(tmp_path)
    assert VOCDetection(tmp_path, "train", keep_difficult=False).num_boxes() == 4


def test_malformed_xml_names_file_and_line_and_is_skipped(tmp_path):
    make_voc(tmp_path)
    bad = tmp_path / "Annotations" / "img_002.xml"
    bad.write_text("<annotation>\n<filename>x.jpg</filename>\n<size><width>3</width>\n</annotation>\n")
    ds = VOCDetection(tmp_path, "train")
    assert len(ds) == 3
    [issue] = ds.issues.of("malformed")
    assert issue.file == str(bad) and issue.line == 4 and "malformed XML" in issue.message
    assert f"{bad}:4:" in str(issue)


def test_boxes_outside_and_degenerate(tmp_path):
    images = {"a": (50, 60, [("cat", [-4, 5, 70, 30], False), ("cat", [10, 10, 10, 20], False),
                             ("dog", [20, 20, 30, 30], False)])}
    make_voc(tmp_path, images)
    ds = VOCDetection(tmp_path, "train")
    _, t = ds.raw(0)
    np.testing.assert_allclose(t["boxes"], [[0, 5, 60, 30], [20, 20, 30, 30]])
    assert t["labels"].tolist() == [1, 2]
    assert ds.issues.counts() == {"box_clipped": 1, "box_dropped": 1}


def test_missing_image_and_missing_split(tmp_path):
    make_voc(tmp_path)
    (tmp_path / "JPEGImages" / "img_002.jpg").unlink()
    ds = VOCDetection(tmp_path, "train")
    assert len(ds) == 3 and ds.issues.counts()["missing_file"] == 1
    with pytest.raises(DataError, match="val.txt: no such file"):
        VOCDetection(tmp_path, "val")


def test_corrupt_image_is_skipped_at_load_time(tmp_path):
    make_voc(tmp_path)
    (tmp_path / "JPEGImages" / "img_002.jpg").write_bytes(b"garbage" * 20)
    ds = VOCDetection(tmp_path, "train")
    with pytest.warns(UserWarning, match="img_002.jpg"):
        _, t = ds[1]  # skips to the next good item instead of crashing
    assert t["path"].endswith("img_003.jpg")
    assert ds.issues.counts()["corrupt_image"] == 1


def test_exif_rotated_image_keeps_boxes_aligned(tmp_path):
    from .fixtures import exif_rotated_jpeg

    make_voc(tmp_path, {"r": (10, 10, [])})
    # displayed image (60 high, 40 wide) has a red block at rows 5..20, cols 10..30;
    # it is stored rotated back (40 high, 60 wide) with Orientation = 6 (rotate 90° CW to display)
    displayed = np.zeros((60, 40, 3), np.uint8)
    displayed[5:20, 10:30] = (255, 0, 0)
    stored = np.rot90(displayed, k=1).copy()  # 90° counter-clockwise
    exif_rotated_jpeg(tmp_path / "JPEGImages" / "r.jpg", stored, 6)
    (tmp_path / "Annotations" / "r.xml").write_text(voc_xml("r.jpg", 40, 60, [("cat", [10, 5, 30, 20], False)]))
    image, t = VOCDetection(tmp_path, "train").raw(0)
    assert image.shape == (60, 40, 3)
    x1, y1, x2, y2 = t["boxes"][0].astype(int)
    assert image[y1 + 1:y2 - 1, x1 + 1:x2 - 1, 0].mean() > 200
    assert image[25:, :, 0].mean() < 30


def test_fixture_matches_spec():
    assert sum(len(v[2]) for v in VOC_IMAGES.values()) == 5


def test_annotation_size_disagreeing_with_the_image_is_reported(tmp_path):
    make_voc(tmp_path, {"a": (40, 60, [("cat", [5, 5, 55, 35], False)])})
    (tmp_path / "Annotations" / "a.xml").write_text(voc_xml("a.jpg", 80, 50, [("cat", [5, 5, 70, 35], False)]))
    ds = VOCDetection(tmp_path, "train")
    _, t = ds.raw(0)
    np.testing.assert_allclose(t["boxes"], [[5, 5, 60, 35]])
    [issue] = ds.issues.of("size_mismatch")
    assert "image is 60x40 but its annotation says 80x50" in issue.message
