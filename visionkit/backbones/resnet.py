"""ResNet (He, Zhang, Ren & Sun, 2015): residual learning.

Each block computes ``relu(x + F(x))``: the layers learn a correction F to the identity, and
the gradient flows back through the ``+`` unchanged, so 50 or 152 layers train as easily as
10. Two block types:

- *BasicBlock* (ResNet-18/34): 3×3 conv -> BN -> ReLU -> 3×3 conv -> BN, plus the input.
- *Bottleneck* (ResNet-50+): 1×1 conv reduces the width 4×, 3×3 conv, 1×1 conv restores it.
  The stride sits on the 3×3 convolution ("ResNet v1.5", as in torchvision).

When a block changes the resolution or the width, the shortcut is a 1×1 convolution with
stride (``downsample``) so that the two branches can be added.

Layout (224 input)::

    conv1 7×7/2, bn1, relu          64×112×112   feature "c1", stride 2
    maxpool 3×3/2, layer1           64 or 256 ×56×56    "c2", stride 4
    layer2 (first block stride 2)   128 / 512 ×28×28    "c3", stride 8
    layer3                          256 / 1024 ×14×14   "c4", stride 16
    layer4                          512 / 2048 ×7×7     "c5", stride 32
    avgpool, fc 1000

ResNet-18 has 11,689,512 parameters, ResNet-34 21,797,672 and ResNet-50 25,557,032.
All paddings are "same", so each map is ``ceil(H / stride)`` wide.
"""

from __future__ import annotations

from torch import nn

from ..registry import BACKBONES, CLASSIFIERS
from .base import Backbone, flatten_logits, freeze
from .weights import load_into


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, width: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(cin, width, stride)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(width, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv1x1(cin, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, width * self.expansion)
        self.bn3 = nn.BatchNorm2d(width * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNetBackbone(Backbone):
    def __init__(self, block: type[BasicBlock] | type[Bottleneck], layers: list[int]) -> None:
        super().__init__()
        self._cin = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        e = block.expansion
        self.set_plan(
            [("conv1", None), ("bn1", None), ("relu", "c1"), ("maxpool", None),
             ("layer1", "c2"), ("layer2", "c3"), ("layer3", "c4"), ("layer4", "c5")],
            {"c1": 64, "c2": 64 * e, "c3": 128 * e, "c4": 256 * e, "c5": 512 * e},
            {"c1": 2, "c2": 4, "c3": 8, "c4": 16, "c5": 32},
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _make_layer(self, block, width: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self._cin != width * block.expansion:
            downsample = nn.Sequential(conv1x1(self._cin, width * block.expansion, stride), nn.BatchNorm2d(width * block.expansion))
        layers = [block(self._cin, width, stride, downsample)]
        self._cin = width * block.expansion
        layers += [block(self._cin, width) for _ in range(1, blocks)]
        return nn.Sequential(*layers)


class ResNet(ResNetBackbone):
    """ResNet classifier: backbone + global average pool + ``fc``."""

    def __init__(self, block, layers: list[int], num_classes: int = 1000) -> None:
        super().__init__(block, layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def forward(self, x):
        return self.fc(flatten_logits(self.avgpool(self.extract(x)["c5"])))


_ARCH = {
    "resnet18": (BasicBlock, [2, 2, 2, 2]),
    "resnet34": (BasicBlock, [3, 4, 6, 3]),
    "resnet50": (Bottleneck, [3, 4, 6, 3]),
}


def _backbone(key: str, pretrained: bool, frozen_stages: int) -> Backbone:
    model = ResNetBackbone(*_ARCH[key])
    if pretrained:
        load_into(model, key)
    return freeze(model, frozen_stages)


def _classifier(key: str, num_classes: int, pretrained: bool) -> nn.Module:
    model = ResNet(*_ARCH[key], num_classes=num_classes)
    if pretrained:
        load_into(model, key, skip=("fc.",) if num_classes != 1000 else ())
    return model


@BACKBONES.register("resnet18", task="backbone", weights="resnet18")
def resnet18_backbone(pretrained: bool = False, frozen_stages: int = 0) -> Backbone:
    """ResNet-18 body: c1..c5 with 64, 64, 128, 256, 512 channels."""
    return _backbone("resnet18", pretrained, frozen_stages)


@BACKBONES.register("resnet34", task="backbone", weights="resnet34")
def resnet34_backbone(pretrained: bool = False, frozen_stages: int = 0) -> Backbone:
    """ResNet-34 body: c1..c5 with 64, 64, 128, 256, 512 channels."""
    return _backbone("resnet34", pretrained, frozen_stages)


@BACKBONES.register("resnet50", task="backbone", weights="resnet50")
def resnet50_backbone(pretrained: bool = False, frozen_stages: int = 0) -> Backbone:
    """ResNet-50 body: c1..c5 with 64, 256, 512, 1024, 2048 channels."""
    return _backbone("resnet50", pretrained, frozen_stages)


@CLASSIFIERS.register("resnet18", task="classification", weights="resnet18")
def resnet18_classifier(num_classes: int = 1000, pretrained: bool = False) -> nn.Module:
    """ResNet-18 (11,689,512 parameters with 1000 classes)."""
    return _classifier("resnet18", num_classes, pretrained)


@CLASSIFIERS.register("resnet34", task="classification", weights="resnet34")
def resnet34_classifier(num_classes: int = 1000, pretrained: bool = False) -> nn.Module:
    """ResNet-34 (21,797,672 parameters with 1000 classes)."""
    return _classifier("resnet34", num_classes, pretrained)


@CLASSIFIERS.register("resnet50", task="classification", weights="resnet50")
def resnet50_classifier(num_classes: int = 1000, pretrained: bool = False) -> nn.Module:
    """ResNet-50 (25,557,032 parameters with 1000 classes)."""
    return _classifier("resnet50", num_classes, pretrained)
