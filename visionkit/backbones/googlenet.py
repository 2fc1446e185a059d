"""GoogLeNet / Inception v1 (Szegedy et al., 2014): width through parallel branches.

An *Inception module* runs four branches on the same input and concatenates their outputs
along the channels: a 1×1 convolution; 1×1 reduce -> 3×3; 1×1 reduce -> "5×5"; 3×3 max-pool
-> 1×1 projection. The 1×1 reductions keep the big filters cheap. (torchvision's model, whose
weights we load, uses a 3×3 kernel in the "5×5" branch; we keep that so the file fits, and
adds batch normalization to every convolution, as in the later Inception papers.)

Layout (224 input)::

    conv1 7×7/2                     64×112×112   feature "c1", stride 2
    maxpool, conv2 1×1, conv3 3×3   192×56×56    "c2", stride 4
    maxpool, inception 3a, 3b       480×28×28    "c3", stride 8
    maxpool, inception 4a..4e       832×14×14    "c4", stride 16
    maxpool, inception 5a, 5b       1024×7×7     "c5", stride 32
    avgpool, dropout 0.2, fc 1000

6,624,904 parameters without the two auxiliary classifiers (which the paper attached to 4a
and 4d to push gradient into the middle of the net during training; ``aux_logits=True``
adds them: 13,004,888). The max-pools use ``ceil_mode``, so maps are ``ceil(H / stride)``.

``transform_input=True`` converts an ImageNet-normalized input to the normalization the
pretrained file was trained with (torchvision sets it when loading its weights).
"""

from __future__ import annotations

from collections import namedtuple

import torch
from torch import nn

from ..registry import BACKBONES, CLASSIFIERS
from .base import Backbone, flatten_logits, freeze
from .weights import load_into

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])


class BasicConv2d(nn.Module):
    """Conv (no bias) -> BatchNorm (eps 1e-3) -> ReLU."""

    def __init__(self, cin: int, cout: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    def __init__(self, cin: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int, pool_proj: int) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(cin, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(BasicConv2d(cin, ch3x3red, kernel_size=1), BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(cin, ch5x5red, kernel_size=1), BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True), BasicConv2d(cin, pool_proj, kernel_size=1))
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: 4×4 avgpool, 1×1 conv 128, fc 1024, dropout 0.7, fc classes."""

    def __init__(self, cin: int, num_classes: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d((4, 4))
        self.conv = BasicConv2d(cin, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.dropout = nn.Dropout(p=0.7)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = flatten_logits(self.conv(self.pool(x)))
        return self.fc2(self.dropout(torch.relu(self.fc1(x))))


class TransformInput(nn.Module):
    """ImageNet-normalized input -> the (x - 0.5) / 0.5 input of the pretrained file."""

    def forward(self, x):
        mean = torch.tensor([0.485, 0.456, 0.406], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        return (x * std + mean - 0.5) / 0.5


class GoogLeNetBackbone(Backbone):
    def __init__(self, transform_input: bool = False) -> None:
        super().__init__()
        self.transform = TransformInput() if transform_input else nn.Identity()
        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        taps = {"conv1": "c1", "conv3": "c2", "inception3b": "c3", "inception4e": "c4", "inception5b": "c5"}
        order = ["transform", "conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b", "maxpool3",
                 "inception4a", "inception4b", "inception4c", "inception4d", "inception4e", "maxpool4", "inception5a", "inception5b"]
        self.set_plan([(p, taps.get(p)) for p in order], {"c1": 64, "c2": 192, "c3": 480, "c4": 832, "c5": 1024},
                      {"c1": 2, "c2": 4, "c3": 8, "c4": 16, "c5": 32})
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


class GoogLeNet(GoogLeNetBackbone):
    """GoogLeNet classifier. In training mode with ``aux_logits`` it returns
    ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``; otherwise the logits."""

    def __init__(self, num_classes: int = 1000, aux_logits: bool = False, transform_input: bool = False, dropout: float = 0.2) -> None:
        super().__init__(transform_input)
        self.aux_logits = aux_logits
        if aux_logits:
            self.aux1 = InceptionAux(512, num_classes)
            self.aux2 = InceptionAux(528, num_classes)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)
        for m in [self.fc, *([self.aux1, self.aux2] if aux_logits else [])]:
            for lin in m.modules():
                if isinstance(lin, nn.Linear):
                    nn.init.trunc_normal_(lin.weight, mean=0.0, std=0.01, a=-2, b=2)
                    nn.init.zeros_(lin.bias)

    def forward(self, x):
        with_aux = self.aux_logits and self.training
        feats = self.extract(x, keep=("inception4a", "inception4d") if with_aux else ())
        logits = self.fc(self.dropout(flatten_logits(self.avgpool(feats["c5"]))))
        if with_aux:
            return GoogLeNetOutputs(logits, self.aux2(feats["inception4d"]), self.aux1(feats["inception4a"]))
        return logits


@BACKBONES.register("googlenet", task="backbone", weights="googlenet")
def googlenet_backbone(pretrained: bool = False, frozen_stages: int = 0, transform_input: bool | None = None) -> Backbone:
    """GoogLeNet body: c1..c5 with 64, 192, 480, 832, 1024 channels.

    ``transform_input`` defaults to ``pretrained``."""
    model = GoogLeNetBackbone(pretrained if transform_input is None else transform_input)
    if pretrained:
        load_into(model, "googlenet")
    return freeze(model, frozen_stages)


@CLASSIFIERS.register("googlenet", task="classification", weights="googlenet")
def googlenet_classifier(num_classes: int = 1000, pretrained: bool = False, aux_logits: bool = False,
                         transform_input: bool | None = None) -> nn.Module:
    """GoogLeNet (6,624,904 parameters without the auxiliary classifiers)."""
    model = GoogLeNet(num_classes, aux_logits, pretrained if transform_input is None else transform_input)
    if pretrained:
        skip = ("fc.", "aux1.fc2.", "aux2.fc2.") if num_classes != 1000 else ()
        load_into(model, "googlenet", skip=skip)
    return model
