import numpy as np
import pytest

from visionkit.data.voc import VOCDetection
from visionkit.errors import DataError

from .fixtures import make_voc


def test_bad_image_skipped_once_then_remembered(tmp_path):
    make_voc(tmp_path)
    (tmp_path / "JPEGImages" / "img_003.jpg").write_bytes(b"\xff\xd8 cut short")
    ds = VOCDetection(tmp_path, "train")
    with pytest.warns(UserWarning, match="truncated JPEG"):
        _, t = ds[2]
    assert t["path"].endswith("ünï_004.jpg")
    _, t = ds[2]  # known bad now: skipped without decoding again
    assert t["path"].endswith("ünï_004.jpg")
    assert [i.kind for i in ds.issues if i.severity == "error"] == ["corrupt_image"]
    assert "items=4" in repr(ds) and "issues=" in repr(ds)


def test_strict_raises_on_a_bad_image(tmp_path):
    make_voc(tmp_path)
    (tmp_path / "JPEGImages" / "img_003.jpg").write_bytes(b"not a jpeg")
    ds = VOCDetection(tmp_path, "train", strict=True)
    with pytest.raises(DataError, match="img_003.jpg"):
        ds[2]


def test_every_item_bad_is_an_error(tmp_path):
    make_voc(tmp_path, splits={"train": ["img_002"]})
    (tmp_path / "JPEGImages" / "img_002.jpg").write_bytes(b"x" * 10)
    ds = VOCDetection(tmp_path, "train")
    with pytest.warns(UserWarning), pytest.raises(DataError, match="no readable item"):
        ds[0]
    assert np.array_equal(ds.items[0].labels, [1])
