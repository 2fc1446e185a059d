"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998): the first CNN trained end to end.

A 32×32 grey image goes through two convolution + subsampling pairs and three fully
connected layers::

    input 1×32×32
    conv 6@5×5  -> 6×28×28     (unpadded: 32 - 5 + 1 = 28)
    avgpool 2   -> 6×14×14     feature "c1", stride 2
    conv 16@5×5 -> 16×10×10
    avgpool 2   -> 16×5×5      feature "c2", stride 4
    fc 400->120 -> fc 120->84 -> fc 84->10

That is 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 parameters. Simplifications of the
paper kept by every modern re-implementation: the subsampling layers have no trainable
coefficients (plain average pooling), C3 connects to all six input maps (the paper wired a
sparse table), tanh activations, and the RBF output layer is an ordinary linear layer.

Feature strides: one step on ``c1`` moves 2 input pixels, on ``c2`` 4, but the unpadded
convolutions shrink the maps by a border: for input side H, ``c1`` is ``(H - 4) // 2`` and
``c2`` is ``((H - 4) // 2 - 4) // 2`` pixels wide.
"""

from __future__ import annotations

from torch import nn

from ..registry import BACKBONES, CLASSIFIERS
from .base import Backbone, flatten_logits, freeze


class LeNet5Backbone(Backbone):
    """The two convolution/subsampling pairs: features ``c1`` (6 ch) and ``c2`` (16 ch)."""

    def __init__(self, in_channels: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5),
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2, stride=2),
        )
        plan = [(f"features.{i}", None) for i in range(6)]
        plan[2] = ("features.2", "c1")
        plan[5] = ("features.5", "c2")
        self.set_plan(plan, {"c1": 6, "c2": 16}, {"c1": 2, "c2": 4})


class LeNet5(LeNet5Backbone):
    """LeNet-5 classifier: the backbone + fc 120, fc 84, fc ``num_classes`` (32×32 input)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__(in_channels)
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),
            nn.Tanh(),
            nn.Linear(120, 84),
            nn.Tanh(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(flatten_logits(self.extract(x)["c2"]))


@BACKBONES.register("lenet5", task="backbone", input_size=(1, 32, 32))
def lenet5_backbone(in_channels: int = 1, frozen_stages: int = 0) -> Backbone:
    """LeNet-5's feature extractor (no pretrained weights exist)."""

    return freeze(LeNet5Backbone(in_channels), frozen_stages)


@CLASSIFIERS.register("lenet5", task="classification", input_size=(1, 32, 32))
def lenet5_classifier(num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """LeNet-5 for 32×32 images (61,706 parameters with 10 classes)."""
    return LeNet5(num_classes, in_channels)
