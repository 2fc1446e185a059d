"""The backbone zoo: LeNet-5, AlexNet, VGG, GoogLeNet, ResNet, DenseNet, MobileNetV2.

Each network comes in two forms, registered under the same name:

- ``registry.BACKBONES``: the feature extractor (:class:`~visionkit.backbones.base.Backbone`),
  ``forward(x) -> OrderedDict`` of maps ``c1``..``c5`` at strides 2..32;
- ``registry.CLASSIFIERS``: the classification form (features + the paper's head, logits out),
  parameter for parameter equal to torchvision's, so torchvision's ImageNet files load.

    from visionkit.registry import BACKBONES
    backbone = BACKBONES.build("resnet50", pretrained=True, frozen_stages=2)
"""

from .base import Backbone, freeze

__all__ = ["Backbone", "freeze"]
