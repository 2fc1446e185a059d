import pytest
import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator as TVAnchorGenerator
from torchvision.models.detection.image_list import ImageList

from visionkit.models.detection.anchors import AnchorGenerator, base_anchors


@pytest.mark.parametrize(
    "sizes,ratios,fmaps,image",
    [
        (((128, 256, 512),), ((0.5, 1.0, 2.0),), [(15, 20)], (480, 640)),  # the paper's 3×3, stride 32
        (((32, 64),), ((0.5, 1.0, 2.0, 3.0),), [(38, 50)], (600, 800)),
        (((32,), (64,), (128,)), ((0.5, 1.0, 2.0),) * 3, [(40, 40), (20, 20), (10, 10)], (320, 320)),  # FPN-style
    ],
)
def test_anchors_agree_with_torchvision(sizes, ratios, fmaps, image):
    feats = [torch.zeros(1, 8, h, w) for h, w in fmaps]
    ours = AnchorGenerator(sizes, ratios)(image, feats)
    theirs = TVAnchorGenerator(sizes, ratios)(ImageList(torch.zeros(1, 3, *image), [image]), feats)[0]
    assert ours.shape == theirs.shape
    assert torch.equal(ours, theirs)
    assert AnchorGenerator(sizes, ratios).num_anchors_per_location() == TVAnchorGenerator(sizes, ratios).num_anchors_per_location()


def test_base_anchor_shapes_follow_ratio_h_over_w():
    a = base_anchors([100], [0.25, 1.0, 4.0])
    w, h = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    assert torch.allclose(h / w, torch.tensor([0.25, 1.0, 4.0]))
    assert torch.allclose(w * h, torch.full((3,), 100.0**2))
