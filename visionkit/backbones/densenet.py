"""DenseNet (Huang, Liu, van der Maaten & Weinberger, 2017): every layer sees every earlier one.

Inside a *dense block*, layer i receives the concatenation of the block input and the outputs
of layers 1..i-1, and adds ``growth_rate`` (32) new channels: features are reused instead of
re-learned, so the layers can be thin. Each layer is BN -> ReLU -> 1×1 conv (to 4·32 channels,
the "bottleneck") -> BN -> ReLU -> 3×3 conv (to 32). Between blocks, a *transition* (BN, ReLU,
1×1 conv halving the channels, 2×2 average pool) halves the resolution.

DenseNet-121 (blocks of 6, 12, 24, 16 layers), 224 input::

    conv0 7×7/2, norm0, relu0      64×112×112    feature "c1", stride 2
    pool0, denseblock1             256×56×56     "c2", stride 4   (64 + 6·32)
    transition1, denseblock2       512×28×28     "c3", stride 8   (128 + 12·32)
    transition2, denseblock3       1024×14×14    "c4", stride 16  (256 + 24·32)
    transition3, denseblock4, norm5, relu   1024×7×7   "c5", stride 32  (512 + 16·32)
    avgpool, classifier 1000

7,978,856 parameters. Maps are ``ceil(H / stride)`` for inputs divisible by 32.

torchvision's published file predates its current parameter names (``norm.1`` instead of
``norm1``); :func:`rename_legacy_keys` maps them when the file is loaded.
"""

from __future__ import annotations

import re
from collections import OrderedDict

import torch
from torch import nn

from ..registry import BACKBONES, CLASSIFIERS
from .base import Backbone, flatten_logits, freeze
from .weights import load_into


class DenseLayer(nn.Module):
    def __init__(self, cin: int, growth_rate: int, bn_size: int, drop_rate: float) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, bn_size * growth_rate, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, padding=1, bias=False)
        self.drop_rate = drop_rate

    def forward(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        x = self.conv1(self.relu1(self.norm1(torch.cat(inputs, 1))))
        x = self.conv2(self.relu2(self.norm2(x)))
        return nn.functional.dropout(x, p=self.drop_rate, training=self.training) if self.drop_rate > 0 else x


class DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers: int, cin: int, growth_rate: int, bn_size: int, drop_rate: float) -> None:
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}", DenseLayer(cin + i * growth_rate, growth_rate, bn_size, drop_rate))

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(OrderedDict(norm=nn.BatchNorm2d(cin), relu=nn.ReLU(inplace=True),
                                     conv=nn.Conv2d(cin, cout, kernel_size=1, bias=False), pool=nn.AvgPool2d(2, 2)))


class DenseNetBackbone(Backbone):
    def __init__(self, growth_rate: int = 32, block_config=(6, 12, 24, 16), num_init_features: int = 64,
                 bn_size: int = 4, drop_rate: float = 0.0) -> None:
        super().__init__()
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv0=nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False),
            norm0=nn.BatchNorm2d(num_init_features),
            relu0=nn.ReLU(inplace=True),
            pool0=nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
        taps = {"relu0": "c1"}
        channels = {"c1": num_init_features}
        c = num_init_features
        for i, n in enumerate(block_config):
            layers[f"denseblock{i + 1}"] = DenseBlock(n, c, growth_rate, bn_size, drop_rate)
            c += n * growth_rate
            if i + 1 < len(block_config):
                taps[f"denseblock{i + 1}"] = f"c{i + 2}"
                channels[f"c{i + 2}"] = c
                layers[f"transition{i + 1}"] = Transition(c, c // 2)
                c //= 2
        layers["norm5"] = nn.BatchNorm2d(c)
        self.features = nn.Sequential(layers)
        self.relu5 = nn.ReLU(inplace=True)  # torchvision applies it functionally; it has no weights
        channels["c5"] = c
        plan = [(f"features.{k}", taps.get(k)) for k in layers] + [("relu5", "c5")]
        self.set_plan(plan, channels, {f"c{k}": 2**k for k in range(1, 6)})
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


class DenseNet(DenseNetBackbone):
    """DenseNet classifier: backbone + global average pool + ``classifier``."""

    def __init__(self, num_classes: int = 1000, **kwargs) -> None:
        super().__init__(**kwargs)
        self.classifier = nn.Linear(self.out_channels["c5"], num_classes)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, x):
        x = self.extract(x)["c5"]
        return self.classifier(flatten_logits(nn.functional.adaptive_avg_pool2d(x, 1)))


_LEGACY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def rename_legacy_keys(sd: dict) -> dict:
    """``...denselayer1.norm.1.weight`` -> ``...denselayer1.norm1.weight``."""
    out = {}
    for k, v in sd.items():
        m = _LEGACY.match(k)
        out[m.group(1) + m.group(2) if m else k] = v
    return out


@BACKBONES.register("densenet121", task="backbone", weights="densenet121")
def densenet121_backbone(pretrained: bool = False, frozen_stages: int = 0) -> Backbone:
    """DenseNet-121 body: c1..c5 with 64, 256, 512, 1024, 1024 channels."""
    model = DenseNetBackbone()
    if pretrained:
        load_into(model, "densenet121", rename=rename_legacy_keys)
    return freeze(model, frozen_stages)


@CLASSIFIERS.register("densenet121", task="classification", weights="densenet121")
def densenet121_classifier(num_classes: int = 1000, pretrained: bool = False, drop_rate: float = 0.0) -> nn.Module:
    """DenseNet-121 (7,978,856 parameters with 1000 classes)."""
    model = DenseNet(num_classes, drop_rate=drop_rate)
    if pretrained:
        load_into(model, "densenet121", skip=("classifier.",) if num_classes != 1000 else (), rename=rename_legacy_keys)
    return model
