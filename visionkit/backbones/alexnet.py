"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012), in torchvision's single-tower form.

Five convolutions and three max-pools, then three fully connected layers with dropout. The
original split the channels over two GPUs; torchvision's one-tower version (from
Krizhevsky's "One weird trick" paper, 64/192/384/256/256 channels) is what we build, with
the same parameter names, so its ImageNet file loads as is::

    conv 64@11×11 s4 p2 -> 64×55×55 (224 input)   feature "c2", stride 4
    maxpool 3 s2        -> 64×27×27                feature "c3", stride 8
    conv 192@5×5 p2, maxpool 3 s2 -> 192×13×13     feature "c4", stride 16
    conv 384, 256, 256 @3×3, maxpool 3 s2 -> 256×6×6   feature "c5", stride 32
    adaptive avgpool 6×6 -> fc 9216->4096 -> fc 4096->4096 -> fc 4096->1000

Parameters: 61,100,840 (58.6 M of them in the fully connected layers).

The strides are exact (one step on ``c5`` = 32 input pixels), but the unpadded pools shrink
the maps below ``H / stride``: for input side H, ``c2`` = (H - 7) // 4 + 1, and each pool
maps n to (n - 3) // 2 + 1 (224 -> 55 -> 27 -> 13 -> 6).
"""

from __future__ import annotations

from torch import nn

from ..registry import BACKBONES, CLASSIFIERS
from .base import Backbone, flatten_logits, freeze
from .weights import load_into


class AlexNetBackbone(Backbone):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        taps = {1: "c2", 2: "c3", 5: "c4", 12: "c5"}
        self.set_plan(
            [(f"features.{i}", taps.get(i)) for i in range(len(self.features))],
            {"c2": 64, "c3": 64, "c4": 192, "c5": 256},
            {"c2": 4, "c3": 8, "c4": 16, "c5": 32},
        )


class AlexNet(AlexNetBackbone):
    """AlexNet classifier: backbone + 6×6 average pool + three dropout/linear layers."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(flatten_logits(self.avgpool(self.extract(x)["c5"])))


@BACKBONES.register("alexnet", task="backbone", weights="alexnet")
def alexnet_backbone(pretrained: bool = False, frozen_stages: int = 0) -> Backbone:
    """AlexNet's five convolutions (features c2..c5)."""
    model = AlexNetBackbone()
    if pretrained:
        load_into(model, "alexnet")
    return freeze(model, frozen_stages)


@CLASSIFIERS.register("alexnet", task="classification", weights="alexnet")
def alexnet_classifier(num_classes: int = 1000, pretrained: bool = False, dropout: float = 0.5) -> nn.Module:
    """AlexNet (61,100,840 parameters with 1000 classes)."""
    model = AlexNet(num_classes, dropout)
    if pretrained:
        load_into(model, "alexnet", skip=("classifier.6.",) if num_classes != 1000 else ())
    return model
