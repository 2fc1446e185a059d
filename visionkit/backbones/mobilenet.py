"""MobileNetV2 (Sandler, Howard, Zhu, Zhmoginov & Chen, 2018): inverted residuals.

A standard 3×3 convolution from C to C' channels costs 9·C·C' multiply-adds per pixel. A
*depthwise separable* one splits it into a 3×3 depthwise convolution (one filter per channel,
``groups=C``: 9·C) and a 1×1 pointwise one (C·C'), about 8-9× cheaper. MobileNetV2's block,
the *inverted residual*, wraps it as::

    1×1 conv expand C -> t·C, BN, ReLU6     (skipped when t = 1)
    3×3 depthwise conv (stride s), BN, ReLU6
    1×1 conv project t·C -> C', BN           (linear: no activation on the thin output)
    + the input, when s = 1 and C = C'

Thin tensors travel between blocks and are expanded only inside them (the inverse of
ResNet's bottleneck). Settings (expansion t, channels c, repeats n, first stride s):
(1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1), between a
3×3/2 stem of 32 channels and a 1×1 conv to 1280; 3,504,872 parameters.

Features (indices into ``features``): ``c1`` = features.1 (16 ch, stride 2), ``c2`` =
features.3 (24, 4), ``c3`` = features.6 (32, 8), ``c4`` = features.13 (96, 16), ``c5`` =
features.18 (1280, 32): the last block at each resolution. Maps are ``ceil(H / stride)``.
"""

from __future__ import annotations

from torch import nn

from ..registry import BACKBONES, CLASSIFIERS
from .base import Backbone, flatten_logits, freeze
from .weights import load_into

SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def make_divisible(v: float, divisor: int = 8) -> int:
    """Round a channel count to a multiple of ``divisor`` without losing more than 10%."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


class ConvBNReLU6(nn.Sequential):
    """Conv (no bias) -> BatchNorm -> ReLU6, indexed 0/1/2 like torchvision's Conv2dNormActivation."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU6(inplace=True),
        )


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = int(round(cin * expand))
        self.use_res_connect = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBNReLU6(cin, hidden, kernel=1))
        layers += [
            ConvBNReLU6(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = cout

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2Backbone(Backbone):
    def __init__(self, width_mult: float = 1.0) -> None:
        super().__init__()
        cin = make_divisible(32 * width_mult)
        last = make_divisible(1280 * max(1.0, width_mult))
        layers: list[nn.Module] = [ConvBNReLU6(3, cin, stride=2)]
        stride = 2
        taps: dict[int, str] = {}
        channels: dict[str, int] = {}
        strides: dict[str, int] = {}
        for t, c, n, s in SETTINGS:
            cout = make_divisible(c * width_mult)
            if s == 2 and len(layers) > 1:  # the previous block was the last one at its resolution
                name = f"c{len(taps) + 1}"
                taps[len(layers) - 1], channels[name], strides[name] = name, cin, stride
            stride *= s
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        layers.append(ConvBNReLU6(cin, last, kernel=1))
        taps[len(layers) - 1], channels["c5"], strides["c5"] = "c5", last, stride
        self.features = nn.Sequential(*layers)
        self.set_plan([(f"features.{i}", taps.get(i)) for i in range(len(layers))], channels, strides)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


class MobileNetV2(MobileNetV2Backbone):
    """MobileNetV2 classifier: backbone + global average pool + dropout + linear."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2) -> None:
        super().__init__(width_mult)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.out_channels["c5"], num_classes))
        nn.init.normal_(self.classifier[1].weight, 0, 0.01)
        nn.init.zeros_(self.classifier[1].bias)

    def forward(self, x):
        x = self.extract(x)["c5"]
        return self.classifier(flatten_logits(nn.functional.adaptive_avg_pool2d(x, 1)))


@BACKBONES.register("mobilenet_v2", task="backbone", weights="mobilenet_v2")
def mobilenet_v2_backbone(pretrained: bool = False, frozen_stages: int = 0) -> Backbone:
    """MobileNetV2 body: c1..c5 with 16, 24, 32, 96, 1280 channels."""
    model = MobileNetV2Backbone()
    if pretrained:
        load_into(model, "mobilenet_v2")
    return freeze(model, frozen_stages)


@CLASSIFIERS.register("mobilenet_v2", task="classification", weights="mobilenet_v2")
def mobilenet_v2_classifier(num_classes: int = 1000, pretrained: bool = False, dropout: float = 0.2) -> nn.Module:
    """MobileNetV2 (3,504,872 parameters with 1000 classes)."""
    model = MobileNetV2(num_classes, dropout=dropout)
    if pretrained:
        load_into(model, "mobilenet_v2", skip=("classifier.1.",) if num_classes != 1000 else ())
    return model
