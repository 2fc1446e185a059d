import torchvision.models as tvm

from visionkit.registry import CLASSIFIERS


def test_matches_torchvision(assert_like_torchvision):
    assert_like_torchvision(lambda: CLASSIFIERS.build("alexnet"), tvm.alexnet, 61_100_840)
