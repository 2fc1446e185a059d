"""VGG (Simonyan & Zisserman, 2014): depth from stacks of 3×3 convolutions.

Two stacked 3×3 convolutions see a 5×5 window, three see 7×7, with fewer parameters and more
non-linearities than one big filter. VGG is five blocks of 3×3 convolutions (padding 1, so the
size is kept), each closed by a 2×2 max-pool that halves the map::

    configuration  block channels (M = max-pool)
    vgg11 "A"      64 M 128 M 256 256 M 512 512 M 512 512 M
    vgg16 "D"      64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M

then a 7×7 average pool and three fully connected layers (25088->4096->4096->1000). VGG-16 has
138,357,544 parameters, 124 M of them in the fully connected layers. The ``_bn`` variants add
batch normalization after every convolution.

Features: the output of each pool, ``c1``..``c5`` at strides 2..32 with 64, 128, 256, 512,
512 channels (``pool3``, ``pool4``, ``pool5`` are what FCN fuses). The classification form
keeps torchvision's ``classifier`` (``classifier.0`` = fc6, ``classifier.3`` = fc7,
``classifier.6`` = fc8) so FCN can reshape fc6/fc7 into 7×7 and 1×1 convolutions
(:func:`linear_to_conv`).
"""

from __future__ import annotations

import torch
from torch import nn

from ..registry import BACKBONES, CLASSIFIERS
from .base import Backbone, flatten_logits, freeze
from .weights import load_into

CONFIGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


def make_features(cfg: list[int | str], batch_norm: bool) -> tuple[nn.Sequential, dict[int, str], dict[str, int]]:
    """The convolutional body as one Sequential (torchvision's indices), the index of each
    pool -> feature name, and each feature's channels."""
    layers: list[nn.Module] = []
    taps: dict[int, str] = {}
    channels: dict[str, int] = {}
    c = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            name = f"c{len(taps) + 1}"
            taps[len(layers) - 1] = name
            channels[name] = c
        else:
            layers.append(nn.Conv2d(c, int(v), kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(int(v)))
            layers.append(nn.ReLU(inplace=True))
            c = int(v)
    return nn.Sequential(*layers), taps, channels


class VGGBackbone(Backbone):
    def __init__(self, cfg: str = "D", batch_norm: bool = False) -> None:
        super().__init__()
        self.features, taps, channels = make_features(CONFIGS[cfg], batch_norm)
        self.set_plan(
            [(f"features.{i}", taps.get(i)) for i in range(len(self.features))],
            channels,
            {name: 2 ** (k + 1) for k, name in enumerate(channels)},
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


class VGG(VGGBackbone):
    """VGG classifier: backbone + 7×7 average pool + fc6, fc7, fc8 (``classifier.0/3/6``)."""

    def __init__(self, cfg: str = "D", batch_norm: bool = False, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__(cfg, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        for m in self.classifier:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(flatten_logits(self.avgpool(self.extract(x)["c5"])))


def linear_to_conv(fc: nn.Linear, in_channels: int, kernel: int) -> nn.Conv2d:
    """A fully connected layer read as a convolution (FCN's trick): fc6 sees the 512×7×7 pool5
    map flattened, so it *is* a 7×7 convolution with 4096 filters; fc7 a 1×1 one. On a 7×7
    input the convolution gives the Linear's output at one position; on a bigger input it
    slides, giving a map of class scores instead of one vector."""
    if fc.in_features != in_channels * kernel * kernel:
        raise ValueError(f"Linear({fc.in_features}, ...) is not a {kernel}x{kernel} conv over {in_channels} channels")
    conv = nn.Conv2d(in_channels, fc.out_features, kernel, device=fc.weight.device, dtype=fc.weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(fc.weight.view(fc.out_features, in_channels, kernel, kernel))
        conv.bias.copy_(fc.bias)
    return conv


def _backbone(key: str, cfg: str, bn: bool, pretrained: bool, frozen_stages: int) -> Backbone:
    model = VGGBackbone(cfg, bn)
    if pretrained:
        load_into(model, key)
    return freeze(model, frozen_stages)


def _classifier(key: str, cfg: str, bn: bool, num_classes: int, pretrained: bool, dropout: float) -> nn.Module:
    model = VGG(cfg, bn, num_classes, dropout)
    if pretrained:
        load_into(model, key, skip=("classifier.6.",) if num_classes != 1000 else ())
    return model


@BACKBONES.register("vgg11", task="backbone", weights="vgg11")
def vgg11_backbone(pretrained: bool = False, frozen_stages: int = 0) -> Backbone:
    """VGG-11 (configuration A) convolutional body: pool1..pool5 as c1..c5."""
    return _backbone("vgg11", "A", False, pretrained, frozen_stages)


@BACKBONES.register("vgg11_bn", task="backbone", weights="vgg11_bn")
def vgg11_bn_backbone(pretrained: bool = False, frozen_stages: int = 0) -> Backbone:
    """VGG-11 with batch normalization: pool1..pool5 as c1..c5."""
    return _backbone("vgg11_bn", "A", True, pretrained, frozen_stages)


@BACKBONES.register("vgg16", task="backbone", weights="vgg16")
def vgg16_backbone(pretrained: bool = False, frozen_stages: int = 0) -> Backbone:
    """VGG-16 (configuration D) convolutional body: pool1..pool5 as c1..c5."""
    return _backbone("vgg16", "D", False, pretrained, frozen_stages)


@BACKBONES.register("vgg16_bn", task="backbone", weights="vgg16_bn")
def vgg16_bn_backbone(pretrained: bool = False, frozen_stages: int = 0) -> Backbone:
    """VGG-16 with batch normalization: pool1..pool5 as c1..c5."""
    return _backbone("vgg16_bn", "D", True, pretrained, frozen_stages)


@CLASSIFIERS.register("vgg11", task="classification", weights="vgg11")
def vgg11_classifier(num_classes: int = 1000, pretrained: bool = False, dropout: float = 0.5) -> nn.Module:
    """VGG-11 (132,863,336 parameters with 1000 classes)."""
    return _classifier("vgg11", "A", False, num_classes, pretrained, dropout)


@CLASSIFIERS.register("vgg11_bn", task="classification", weights="vgg11_bn")
def vgg11_bn_classifier(num_classes: int = 1000, pretrained: bool = False, dropout: float = 0.5) -> nn.Module:
    """VGG-11 with batch normalization (132,868,840 parameters)."""
    return _classifier("vgg11_bn", "A", True, num_classes, pretrained, dropout)


@CLASSIFIERS.register("vgg16", task="classification", weights="vgg16")
def vgg16_classifier(num_classes: int = 1000, pretrained: bool = False, dropout: float = 0.5) -> nn.Module:
    """VGG-16 (138,357,544 parameters with 1000 classes)."""
    return _classifier("vgg16", "D", False, num_classes, pretrained, dropout)


@CLASSIFIERS.register("vgg16_bn", task="classification", weights="vgg16_bn")
def vgg16_bn_classifier(num_classes: int = 1000, pretrained: bool = False, dropout: float = 0.5) -> nn.Module:
    """VGG-16 with batch normalization (138,365,992 parameters)."""
    return _classifier("vgg16_bn", "D", True, num_classes, pretrained, dropout)
