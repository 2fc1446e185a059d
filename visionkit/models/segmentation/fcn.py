"""FCN — "Fully Convolutional Networks for Semantic Segmentation" (Long, Shelhamer & Darrell, 2015).

A classification network becomes fully convolutional: its fully connected layers are read as
convolutions (VGG's fc6 is a 7×7 convolution over pool5, fc7 a 1×1), so it maps an image of
any size to a coarse map of class scores (stride 32). Learnable transposed convolutions,
initialised to bilinear interpolation, bring the scores back to the input resolution, and
skip connections add finer predictions from earlier layers:

    FCN-32s:  score(c5)                                           ×32 -> logits
    FCN-16s:  ×2(score(c5)) + score(c4)                           ×16 -> logits
    FCN-8s:   ×2(×2(score(c5)) + score(c4)) + score(c3)           ×8  -> logits

The skip scorers start at zero (as in the paper), so a 16s/8s net starts as its coarser
parent. The paper learns the 2× upsamplers but keeps the final one fixed to bilinear; here the
final one is learnable too (it starts bilinear; the trained CamVid nets in docs/RESULTS.md
were trained this way). Inputs are zero-padded to a multiple of 32 and the logits cropped back, so any input
size works and the output matches it exactly (the paper pads by 100 px and crops instead).
"""

from __future__ import annotations

import torch
from torch import nn

from ...backbones.vgg import linear_to_conv
from ...registry import MODELS
from ..common import Images, Normalize, Targets, batch_images, build_backbone, stack_masks
from .losses import segmentation_loss
from .upsample import BilinearUpsample


class ConvClassifier(nn.Module):
    """The classifier read as convolutions: fc6 (k×k) and fc7 (1×1) with ReLU and dropout."""

    def __init__(self, in_channels: int, channels: int = 4096, kernel: int = 7, dropout: float = 0.5):
        super().__init__()
        self.fc6 = nn.Conv2d(in_channels, channels, kernel, padding=kernel // 2)
        self.fc7 = nn.Conv2d(channels, channels, 1)
        self.relu = nn.ReLU(inplace=True)
        self.drop = nn.Dropout2d(dropout)
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.relu(self.fc7(self.drop(self.relu(self.fc6(x))))))

    @torch.no_grad()
    def load_from_linear(self, fc6: nn.Linear, fc7: nn.Linear) -> None:
        """Convolutionise a VGG classifier (``backbones.vgg.linear_to_conv``): Linear(C·k·k -> n)
        becomes Conv(C -> n, k×k); this layer keeps its own padding."""
        for ours, fc in ((self.fc6, fc6), (self.fc7, fc7)):
            conv = linear_to_conv(fc, ours.in_channels, ours.kernel_size[0])
            ours.weight.copy_(conv.weight)
            ours.bias.copy_(conv.bias)


def _zero_conv1x1(cin: int, cout: int) -> nn.Conv2d:
    conv = nn.Conv2d(cin, cout, 1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class FCN(nn.Module):
    task = "segmentation"

    def __init__(
        self,
        backbone: nn.Module,
        num_classes: int,
        variant: int = 8,
        fc_channels: int = 4096,
        fc_kernel: int = 7,
        ignore_index: int = 255,
        class_weights: list[float] | None = None,
        dice_weight: float = 0.0,
    ):
        super().__init__()
        if variant not in (32, 16, 8):
            raise ValueError(f"FCN variant must be 32, 16 or 8, not {variant}")
        self.variant, self.num_classes = variant, num_classes
        self.ignore_index, self.class_weights, self.dice_weight = ignore_index, class_weights, dice_weight
        self.normalize = Normalize()
        self.backbone = backbone
        ch = backbone.out_channels
        self.classifier = ConvClassifier(ch["c5"], fc_channels, fc_kernel) if fc_channels else nn.Identity()
        self.score_c5 = nn.Conv2d(fc_channels or ch["c5"], num_classes, 1)
        if variant <= 16:
            self.up_c5 = BilinearUpsample(num_classes, 2)
            self.score_c4 = _zero_conv1x1(ch["c4"], num_classes)
        if variant == 8:
            self.up_c4 = BilinearUpsample(num_classes, 2)
            self.score_c3 = _zero_conv1x1(ch["c3"], num_classes)
        self.upsample = BilinearUpsample(num_classes, variant)

    def forward(self, images: Images, targets: Targets | None = None):
        """Training: ``targets`` is one dict per image with ``masks`` (H×W class indices) ->
        ``{"loss_ce"[, "loss_dice"]}``. Eval: ``[{"masks": H×W, "logits": K×H×W}]`` per image."""
        x, sizes = batch_images(images, size_divisible=32)
        feats = self.backbone(self.normalize(x))
        score = self.score_c5(self.classifier(feats["c5"]))  # stride 32
        if self.variant <= 16:
            score = self.up_c5(score) + self.score_c4(feats["c4"])  # stride 16
        if self.variant == 8:
            score = self.up_c4(score) + self.score_c3(feats["c3"])  # stride 8
        logits = self.upsample(score)  # stride 1, the padded input's size
        if self.training:
            masks = stack_masks(targets, logits.shape[-2:], self.ignore_index, logits.device)
            return segmentation_loss(logits, masks, self.ignore_index, self.class_weights, self.dice_weight)
        return [{"masks": lg[:, :h, :w].argmax(0), "logits": lg[:, :h, :w]} for lg, (h, w) in zip(logits, sizes)]


@MODELS.register("fcn", task="segmentation")
def fcn(
    num_classes: int = 21,
    backbone: str = "mobilenet_v2",
    pretrained: bool = True,
    frozen_stages: int = 0,
    variant: int = 8,
    fc_channels: int = 512,
    fc_kernel: int = 3,
    ignore_index: int = 255,
    class_weights: list[float] | None = None,
    dice_weight: float = 0.0,
) -> FCN:
    """FCN-32s/16s/8s (``variant``) on any zoo backbone. The paper's VGG-16 setting is
    ``backbone=vgg16, fc_channels=4096, fc_kernel=7``; ``fc_channels=0`` scores c5 directly."""
    body = build_backbone(backbone, pretrained, frozen_stages)
    return FCN(body, num_classes, variant, fc_channels, fc_kernel, ignore_index, class_weights, dice_weight)
