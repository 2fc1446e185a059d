import pytest
import torch

from visionkit.models.segmentation.smp import encoder_matches_backbone
from visionkit.registry import BACKBONES, MODELS


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
    assert encoder_matches_backbone(unet, ours, torch.rand(1, 3, 64, 64))
