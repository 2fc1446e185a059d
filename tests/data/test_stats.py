"""Box statistics at the network input (``data/stats.py``) on synthetic small and large boxes."""

import numpy as np
import pytest
import torch

from visionkit.data.base import DetectionDataset, DetItem
from visionkit.data.stats import box_stats


class Boxes(DetectionDataset):
    """A reader index without images: ``(h, w)`` and boxes per image."""

    def __init__(self, images, classes=("small", "large")):
        super().__init__("mem", "train")
        self.classes = list(classes)
        self.items = [DetItem(f"{i}.jpg", i, size, [b for b, _ in boxes], [k for _, k in boxes]) for i, (size, boxes) in enumerate(images)]

    def raw(self, i):  # never decoded: the statistics read the index
        raise AssertionError("box_stats decoded an image")


def test_small_and_large_boxes_per_class_after_a_letterbox():
    # 640×480 images letterboxed to 320: scale 0.5; small boxes 20 px -> 10 px, large 400×400 -> 200 px
    images = [((480, 640), [([10, 10, 30, 30], 1), ([100, 50, 500, 450], 2)]),
              ((480, 640), [([200, 200, 220, 220], 1), ([300, 300, 320, 320], 1)])]
    s = box_stats(Boxes(images), 320, "letterbox")
    assert s.input_hw == (320, 320) and s.num_boxes == 4
    assert s.per_image.tolist() == [2, 2]
    per = s.per_class()
    assert per[1]["count"] == 3 and per[1]["median"] == pytest.approx(10 / 320)
    assert per[2]["count"] == 1 and per[2]["median"] == pytest.approx(200 / 320)
    assert s.smallest_class_median(min_count=1) == pytest.approx(10 / 320)
    assert "small 0.03" in s.summary() and "large 0.62" in s.summary()


def test_stretch_scales_each_axis_and_raw_is_read_without_an_index():
    class Raw(torch.utils.data.Dataset):
        classes = ["thing"]

        def __len__(self):
            return 2

        def raw(self, i):
            return np.zeros((100, 200, 3), np.uint8), {"boxes": np.array([[0, 0, 200, 100]], np.float32), "labels": np.array([1])}

    s = box_stats(Raw(), (50, 50), "stretch")
    assert s.wh.tolist() == [[50, 50], [50, 50]] and s.rel_size.tolist() == [1.0, 1.0]
    assert box_stats(torch.utils.data.Subset(Raw(), [1]), 50, "stretch").num_boxes == 1
