import numpy as np
import pytest

from visionkit.data.validate import Issues, check_mask, clean_boxes
from visionkit.errors import DataError


def test_clean_boxes_clips_drops_and_counts():
    issues = Issues()
    boxes = [[10, 10, 20, 20],     # fine
             [-5, 3, 30, 120],     # outside: clipped to 0..40 x 0..100
             [5, 5, 5, 9],         # zero width: dropped
             [30, 30, 20, 40],     # negative width: dropped
             [50, 10, 60, 20],     # entirely right of the image: dropped
             [0, 0, 40.3, 100]]    # 0.3 px over: clipped silently (rounding)
    out, keep = clean_boxes(boxes, 40, 100, issues, "a.xml", lines=[1, 2, 3, 4, 5, 6])
    assert keep.tolist() == [True, True, False, False, False, True]
    np.testing.assert_allclose(out[1], [0, 3, 30, 100])
    np.testing.assert_allclose(out[5], [0, 0, 40, 100])
    c = issues.counts()
    assert c["box_clipped"] == 1 and c["box_dropped"] == 3
    assert issues.of("box_clipped")[0].line == 2
    assert "a.xml:2:" in str(issues.of("box_clipped")[0])


def test_strict_raises_on_first_warning():
    with pytest.raises(DataError, match="strict"):
        clean_boxes([[0, 0, 0, 5]], 10, 10, Issues(strict=True), "x.txt")


def test_check_mask_sets_out_of_range_to_ignore():
    issues = Issues()
    m = np.array([[0, 1, 2], [3, 9, 255]], np.uint8)
    out = check_mask(m, num_classes=3, ignore_index=255, issues=issues, file="m.png")
    assert out.tolist() == [[0, 1, 2], [255, 255, 255]]
    assert issues.counts()["mask_out_of_range"] == 1
    assert "[3, 9]" in issues.items[0].message


def test_issues_dedupe_and_report():
    issues = Issues()
    for _ in range(3):
        issues.warn("box_clipped", "a.xml", "box 0 clipped")
    issues.error("corrupt_image", "b.jpg", "not an image")
    assert len(issues) == 2
    rep = issues.report()
    assert rep.splitlines()[0] == "error corrupt_image: 1"
    assert "warning box_clipped: 1" in rep
    assert issues.skipped_files == ["b.jpg"]
