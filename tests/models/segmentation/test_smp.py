import pytest
import torch

from visionkit.registry import BACKBONES, MODELS


def encoder_matches_backbone(model, backbone, x: torch.Tensor) -> bool:
    """True when the smp encoder's deepest features equal our backbone's on ``x``."""
    with torch.no_grad():
        ours = backbone(x)[backbone.last]
        theirs = model.net.encoder(x)[-1]
    return ours.shape == theirs.shape and torch.allclose(ours, theirs, atol=1e-4)


@pytest.mark.parametrize("name", ["smp_unet", "smp_fpn", "smp_deeplabv3plus"])
def test_smp_models_follow_the_segmentation_contract(name):
    model = MODELS.build(name, num_classes=4, pretrained=False, ignore_index=11).eval()
    with torch.no_grad():
        out = model([torch.rand(3, 45, 70), torch.rand(3, 64, 64)])
    assert out[0]["masks"].shape == (45, 70) and out[1]["logits"].shape == (4, 64, 64)
    model.train()
    masks = torch.full((2, 64, 64), 11)
    masks[:, :10] = 1
    losses = model(torch.rand(2, 3, 64, 64), [{"masks": m} for m in masks])
    assert torch.isfinite(losses["loss_ce"])


def test_unet_encoder_gets_the_same_imagenet_weights_as_our_backbone():
    unet = MODELS.build("smp_unet", num_classes=11, pretrained=True).eval()
    ours = BACKBONES.build("mobilenet_v2", pretrained=True).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        theirs, mine = unet.net.encoder(x)[-1], ours(x)[ours.last]
    assert theirs.shape == mine.shape == (1, 1280, 2, 2)
    torch.testing.assert_close(theirs, mine, atol=1e-4, rtol=0)
