import numpy as np
import pytest

from visionkit.data.image import image_size, read_image, read_mask
from visionkit.data.validate import BadFile, Issues
from visionkit.errors import DataError

from .fixtures import bad_files, exif_rotated_jpeg, rect_image, write_image, write_palette_png


def test_reads_rgb_from_unicode_path_with_spaces(tmp_path):
    img = rect_image(20, 30, [[0, 0, 10, 20]], colors=[(255, 0, 0)])
    p = write_image(tmp_path / "dossier ünï" / "é 1.png", img)
    out = read_image(p)
    assert out.dtype == np.uint8 and out.shape == (20, 30, 3)
    np.testing.assert_array_equal(out, img)  # PNG is lossless, and the channel order is RGB
    assert tuple(out[5, 5]) == (255, 0, 0)


def test_exif_orientation_applied(tmp_path):
    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:, :20] = (255, 0, 0)  # red strip on the left of the stored pixels
    p = exif_rotated_jpeg(tmp_path / "rot.jpg", stored, orientation=6)  # displayed rotated 90° clockwise
    out = read_image(p)
    assert out.shape == (60, 40, 3)
    assert out[5, 30, 0] > 200 and out[5, 30, 1] < 60  # the strip is now at the top
    assert out[55, 20, 0] < 60
    assert image_size(p) == (60, 40)


@pytest.mark.parametrize("kind", ["truncated", "corrupt", "not_image", "empty"])
def test_bad_files_raise_data_error_naming_the_file(tmp_path, kind):
    path = bad_files(tmp_path)[kind]
    with pytest.raises(DataError) as e:
        read_image(path)
    assert str(path) in str(e.value)
    assert isinstance(e.value, BadFile)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such image"):
        read_image(tmp_path / "nope.jpg")


def test_conversions_are_reported(tmp_path):
    files = bad_files(tmp_path)
    issues = Issues()
    for kind in ("gray", "rgba", "16bit", "palette"):
        out = read_image(files[kind], issues)
        assert out.shape == (40, 60, 3) and out.dtype == np.uint8
    counts = issues.counts()
    assert counts["converted"] == 2  # grayscale and palette
    assert counts["alpha_dropped"] == 1 and counts["depth_reduced"] == 1
    gray = read_image(files["gray"])
    assert (gray[..., 0] == gray[..., 1]).all()
    deep = read_image(files["16bit"])
    ref = read_image(files["rgba"])
    assert np.abs(deep.astype(int) - ref.astype(int)).max() <= 1  # 16-bit scaled back to 8 bits


def test_strict_turns_conversion_warnings_into_errors(tmp_path):
    files = bad_files(tmp_path)
    with pytest.raises(DataError, match="alpha"):
        read_image(files["rgba"], Issues(strict=True))
    read_image(files["gray"], Issues(strict=True))  # lossless: info only


def test_read_mask_keeps_palette_indices(tmp_path):
    m = np.zeros((10, 12), np.uint8)
    m[2:5, 3:9] = 7
    m[0] = 255
    out = read_mask(write_palette_png(tmp_path / "m.png", m))
    np.testing.assert_array_equal(out, m)
    gray = read_mask(write_image(tmp_path / "g.png", m))
    np.testing.assert_array_equal(gray, m)


def test_colour_mask_is_rejected(tmp_path):
    p = write_image(tmp_path / "c.png", np.random.default_rng(0).integers(0, 255, (5, 5, 3), dtype=np.uint8))
    with pytest.raises(DataError, match="colour mask"):
        read_mask(p)
