import torch
import torchvision.models as tvm

from visionkit.backbones.densenet import rename_legacy_keys
from visionkit.registry import CLASSIFIERS


def test_matches_torchvision(assert_like_torchvision):
    assert_like_torchvision(lambda: CLASSIFIERS.build("densenet121"), tvm.densenet121, 7_978_856)


def test_legacy_key_names_of_the_published_file():
    t = torch.zeros(1)
    old = {
        "features.denseblock1.denselayer1.norm.1.weight": t,
        "features.denseblock4.denselayer16.conv.2.weight": t,
        "features.transition1.norm.weight": t,
        "classifier.bias": t,
    }
    assert list(rename_legacy_keys(old)) == [
        "features.denseblock1.denselayer1.norm1.weight",
        "features.denseblock4.denselayer16.conv2.weight",
        "features.transition1.norm.weight",
        "classifier.bias",
    ]
