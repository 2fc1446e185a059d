import torch

from tests.helpers.testers import SegmenterTester
from visionkit.registry import BACKBONES, MODELS


def encoder_matches_backbone(model, backbone, x: torch.Tensor) -> bool:
    """True when the smp encoder's deepest features equal our backbone's on ``x``."""
    with torch.no_grad():
        ours = backbone(x)[backbone.last]
        theirs = model.net.encoder(x)[-1]
    return ours.shape == theirs.shape and torch.allclose(ours, theirs, atol=1e-4)


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
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        theirs, mine = unet.net.encoder(x)[-1], ours(x)[ours.last]
    assert theirs.shape == mine.shape == (1, 1280, 2, 2)
    torch.testing.assert_close(theirs, mine, atol=1e-4, rtol=0)
