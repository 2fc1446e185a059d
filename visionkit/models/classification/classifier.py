"""A zoo network's classification form (e.g. LeNet-5, ResNet-18) under the engine's contract:
cross-entropy in training, logits in evaluation. It also serves as the feature extractor for
FID: :meth:`Classifier.features` returns the penultimate-layer activations."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import CLASSIFIERS, MODELS
from ..common import Images, Targets, batch_images, stack_labels


class Classifier(nn.Module):
    task = "classification"

    def __init__(self, net: nn.Module, in_channels: int = 3, mean: float = 0.5, std: float = 0.5):
        super().__init__()
        self.net, self.in_channels = net, in_channels
        self.mean, self.std = mean, std

    def prepare(self, images: Images) -> torch.Tensor:
        x, _ = batch_images(images)
        if x.shape[1] == 3 and self.in_channels == 1:  # colour -> grey
            x = x.mean(1, keepdim=True)
        elif x.shape[1] == 1 and self.in_channels == 3:  # grey -> colour
            x = x.expand(-1, 3, -1, -1)
        return (x - self.mean) / self.std

    def forward(self, images: Images, targets: Targets | None = None):
        """Training: one dict per image with ``label`` -> ``{"loss_cls"}``; eval: ``[{"logits"}]``."""
        logits = self.net(self.prepare(images))
        if self.training:
            return {"loss_cls": F.cross_entropy(logits, stack_labels(targets, logits.device))}
        return [{"logits": lg} for lg in logits]

    @torch.no_grad()
    def features_and_logits(self, images: Images) -> tuple[torch.Tensor, torch.Tensor]:
        """Penultimate activations (the input of the last linear layer), N×D, and the N×K
        logits, from one forward pass."""
        last = [m for m in self.net.modules() if isinstance(m, nn.Linear)][-1]
        grabbed = {}
        handle = last.register_forward_hook(lambda m, inp, out: grabbed.update(x=inp[0]))  # returns None: output kept
        try:
            logits = self.net(self.prepare(images))
        finally:
            handle.remove()
        return grabbed["x"].flatten(1), logits

    def features(self, images: Images) -> torch.Tensor:
        """Penultimate activations (the input of the last linear layer), N×D."""
        return self.features_and_logits(images)[0]


@MODELS.register("classifier", task="classification")
def classifier(num_classes: int = 10, network: str = "lenet5", pretrained: bool = False, in_channels: int = 1,
               mean: float = 0.5, std: float = 0.5) -> Classifier:
    """A zoo classifier (``network``: lenet5, resnet18, ...) for ``in_channels``-channel images
    normalised by ``(x - mean) / std``."""
    params = CLASSIFIERS.get(network).params()
    kwargs = {"num_classes": num_classes}
    if "in_channels" in params:
        kwargs["in_channels"] = in_channels
    if pretrained or "pretrained" in params:
        kwargs["pretrained"] = pretrained
    net = CLASSIFIERS.build(network, where="model.network", **kwargs)
    return Classifier(net, in_channels if "in_channels" in params else 3, mean, std)
