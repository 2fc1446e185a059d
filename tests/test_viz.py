import numpy as np
import pytest

from visionkit.viz import draw_caption, draw_detections, draw_mask, palette


def test_palette_colours_are_distinct_and_not_black():
    p = palette(21)
    assert len({tuple(c) for c in p}) == 21
    assert (p.sum(1) > 0).all()
    assert tuple(p[0]) == (128, 0, 0)  # VOC's first class colour


def test_boxes_are_drawn_on_a_copy_in_the_class_colour():
    img = np.zeros((100, 120, 3), np.uint8)
    out = draw_detections(img, [[10, 20, 60, 80]], [2], [0.9], ["a", "b"], line_width=2)
    assert img.sum() == 0  # input untouched
    assert tuple(out[50, 10]) == tuple(palette(3)[2])  # left edge of the box
    assert out[50, 35].sum() == 0  # inside stays as it was


def test_mask_overlay_blends_class_colours_and_checks_size():
    img = np.full((40, 40, 3), 200, np.uint8)
    mask = np.zeros((40, 40), np.int64)
    mask[20:] = 1
    mask[:5, :5] = 255
    out = draw_mask(img, mask, ["sky", "road"], alpha=0.5, ignore_index=255, legend=False)
    expected = (0.5 * palette(2)[1] + 0.5 * 200).round()
    assert np.allclose(out[30, 30], expected, atol=1)
    assert (out[2, 2] == 200).all()  # ignored pixels untouched
    with pytest.raises(ValueError):
        draw_mask(img, mask[:10], ["sky"])


def test_caption_band_changes_the_bottom_only():
    img = np.full((120, 200, 3), 255, np.uint8)
    out = draw_caption(img, "a cat on a mat")
    assert (out[:60] == 255).all() and (out[-10:] != 255).any()
