import pytest
import torch

from visionkit.errors import WeightsError
from visionkit.registry import BACKBONES


def test_darknet24_is_the_papers_network():
    b = BACKBONES.build("darknet24", batch_norm=False)
    assert b.num_convs() == 24
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in b.modules())
    with torch.device("meta"):
        feats = BACKBONES.build("darknet24")(torch.empty(1, 3, 448, 448))
    assert {k: tuple(v.shape[1:]) for k, v in feats.items()} == {
        "c2": (64, 112, 112), "c3": (192, 56, 56), "c4": (512, 28, 28), "c5": (1024, 14, 14), "c6": (1024, 7, 7)}
    assert b.strides["c6"] == 64 and b.last == "c6"


def test_darknet24_has_no_offline_weights():
    with pytest.raises(WeightsError, match="no pretrained weights"):
        BACKBONES.build("darknet24", pretrained=True)
