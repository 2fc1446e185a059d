import torch

from tests.helpers.testers import SegmenterTester
from visionkit.models.segmentation.smp import encoder_matches_backbone
from visionkit.registry import BACKBONES, MODELS


class _Smp(SegmenterTester):
    num_classes, train_size, eval_sizes = 4, (64, 64), [(45, 70), (64, 64)]
    overfit_steps = 0  # the decoders are the library's: the contract is what is ours
    export_formats = ()  # not exported by any test yet
    name = ""

    def build(self, **options):
        return MODELS.build(self.name, num_classes=4, pretrained=False, ignore_index=11, **options)


class TestSmpUnet(_Smp):
    name = "smp_unet"


class TestSmpFPN(_Smp):
    name = "smp_fpn"


class TestSmpDeepLabV3Plus(_Smp):
    name = "smp_deeplabv3plus"


def test_unet_encoder_gets_the_same_imagenet_weights_as_our_backbone():
    unet = MODELS.build("smp_unet", num_classes=11, pretrained=True).eval()
    ours = BACKBONES.build("mobilenet_v2", pretrained=True).eval()
    assert encoder_matches_backbone(unet, ours, torch.rand(1, 3, 64, 64))
