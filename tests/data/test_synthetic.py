import numpy as np
import pytest
import torch

from visionkit.config import DataConfig
from visionkit.data import build_dataset, make_loader
from visionkit.data.synthetic import COLORS, SyntheticShapes
from visionkit.errors import DataError


def test_detection_boxes_enclose_their_shapes():
    ds = SyntheticShapes("train", num_images=8, size=64, num_classes=3)
    assert ds.classes == ["rectangle", "ellipse", "triangle"] and len(ds) == 8
    for i in range(8):
        image, t = ds.raw(i)
        assert image.shape == (64, 64, 3) and len(t["boxes"]) >= 1
        # the last-drawn shape is fully visible: its box is tight around its colour
        x1, y1, x2, y2 = t["boxes"][-1].astype(int)
        colour = np.all(image == COLORS[t["labels"][-1] - 1], axis=2)
        assert colour[y1:y2, x1:x2].any(0).all() and colour[y1:y2, x1:x2].any(1).all()
    a, b = ds.raw(3)[0], SyntheticShapes("train", num_images=8).raw(3)[0]
    assert np.array_equal(a, b)  # deterministic
    assert not np.array_equal(a, SyntheticShapes("val", num_images=8).raw(3)[0])  # splits differ


def test_segmentation_and_build():
    cfg = DataConfig(format="synthetic", root="unused", img_size=32, resize="stretch",
                     options={"task": "segmentation", "num_images": 4, "num_classes": 2})
    ds = build_dataset(cfg, "train", train=False)
    assert ds.task == "segmentation" and ds.classes == ["background", "rectangle", "ellipse"]
    x, y = next(iter(make_loader(ds, 4, shuffle=False, workers=0)))
    masks = torch.stack([t["masks"] for t in y])
    assert x.shape == (4, 3, 32, 32) and masks.shape == (4, 32, 32) and set(masks.unique().tolist()) <= {0, 1, 2}
    with pytest.raises(DataError, match="num_classes"):
        SyntheticShapes(num_classes=9)
