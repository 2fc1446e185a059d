"""The backbone contract: a CNN seen as a stack of stages that each halve the resolution.

Every classification CNN of the zoo is two parts: a *feature extractor* (convolutions and
pooling that turn an image into ever smaller, ever deeper maps) and a *head* (global pooling and
fully connected layers that turn the last map into class scores). Detection and segmentation
heads keep the first part and replace the second, so the feature extractor is what they share.

:class:`Backbone` is that first part. Its ``forward(x)`` returns an ``OrderedDict`` of named
feature maps, shallow to deep::

    feats = backbone(images)          # {"c1": N×64×H/2×W/2, ..., "c5": N×2048×H/32×W/32}
    backbone.out_channels["c5"]       # 2048
    backbone.strides["c5"]            # 32: one step on this map = 32 input pixels
    backbone.last                     # "c5", the deepest map

``cK`` names the map whose nominal stride is ``2**K``. Nets whose convolutions are unpadded
(LeNet-5, AlexNet) expose maps at those strides too, but smaller than ``H / stride`` because
every unpadded convolution eats a border: see each module's docstring.

How a subclass is written: it creates its layers under torchvision's attribute names (so that
torchvision's state dicts load with ``strict=True``), then lists its *plan*: the child modules
in the order they run, and after which of them a feature map is emitted. The generic
:meth:`Backbone.extract` runs the plan; the same plan tells :func:`freeze` which layers make up
each stage. The classification form of each network subclasses its backbone, adds the head,
and overrides ``forward`` to return logits (its features stay reachable via ``extract``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Iterable

import torch
from torch import nn

from ..errors import ConfigError


class Backbone(nn.Module):
    """A feature extractor: ``forward(x) -> OrderedDict[str, Tensor]`` of named maps.

    Attributes:
        out_channels: feature name -> number of channels.
        strides: feature name -> input pixels per step of that map.
        plan: ``[(module_path, feature_name_or_None), ...]`` in execution order.
    """

    def __init__(self) -> None:
        super().__init__()
        self.plan: list[tuple[str, str | None]] = []
        self.out_channels: dict[str, int] = {}
        self.strides: dict[str, int] = {}
        self.frozen_stages = 0

    # -- building --------------------------------------------------------------------------
    def set_plan(self, plan: Iterable[tuple[str, str | None]], out_channels: dict[str, int], strides: dict[str, int]) -> None:
        """Record the execution plan and the features it emits (called by subclasses)."""
        self.plan = list(plan)
        emitted = [name for _, name in self.plan if name]
        if set(emitted) != set(out_channels) or set(emitted) != set(strides):
            raise ValueError(f"plan emits {emitted}, but out_channels/strides name {sorted(out_channels)}")
        self.out_channels = {k: out_channels[k] for k in emitted}
        self.strides = {k: strides[k] for k in emitted}

    @property
    def last(self) -> str:
        """Name of the deepest feature map (what single-scale heads use)."""
        return next(reversed(self.out_channels))

    def stages(self) -> list[list[str]]:
        """Module paths of each stage: stage k holds the layers that compute the k-th feature
        map from the (k-1)-th. ``stages()[0]`` starts at the input (the stem)."""
        groups: list[list[str]] = [[]]
        for path, name in self.plan:
            groups[-1].append(path)
            if name:
                groups.append([])
        return [g for g in groups if g][: len(self.out_channels)]

    def truncate(self, last: str) -> "Backbone":
        """Stop at feature ``last``: the layers after it are replaced by ``nn.Identity`` and
        leave the plan, so they are neither run, trained nor saved (a head that reads c4 does
        not pay for c5)."""
        if last not in self.out_channels:
            raise ValueError(f"no feature {last!r}; this backbone has {list(self.out_channels)}")
        cut = next(i for i, (_, name) in enumerate(self.plan) if name == last) + 1
        for path, _ in self.plan[cut:]:
            parent, _, child = path.rpartition(".")
            self.get_submodule(parent)._modules[child] = nn.Identity()
        keep = list(self.out_channels)[: list(self.out_channels).index(last) + 1]
        self.set_plan(self.plan[:cut], {k: self.out_channels[k] for k in keep}, {k: self.strides[k] for k in keep})
        return self

    # -- running ---------------------------------------------------------------------------
    def extract(self, x: torch.Tensor, keep: tuple[str, ...] = ()) -> "OrderedDict[str, torch.Tensor]":
        """Run the plan; return the emitted maps (plus the outputs of the modules in ``keep``,
        under their module paths, for heads that tap other places, like GoogLeNet's aux)."""
        feats: OrderedDict[str, torch.Tensor] = OrderedDict()
        for path, name in self.plan:
            x = self.get_submodule(path)(x)
            if name:
                feats[name] = x
            if path in keep:
                feats[path] = x
        return feats

    def forward(self, x: torch.Tensor) -> "OrderedDict[str, torch.Tensor]":
        return self.extract(x)

    def train(self, mode: bool = True) -> "Backbone":
        super().train(mode)
        if mode and self.frozen_stages:
            for path in self._frozen_paths():
                for m in self.get_submodule(path).modules():
                    if isinstance(m, nn.modules.batchnorm._BatchNorm):
                        m.eval()
        return self

    def _frozen_paths(self) -> list[str]:
        return [p for stage in self.stages()[: self.frozen_stages] for p in stage]


def freeze(backbone: Backbone, stages: int) -> Backbone:
    """Freeze the first ``stages`` stages (the stem is part of stage 1): their parameters stop
    receiving gradients and their batch-norm layers stay in eval mode (running statistics
    frozen), even after ``backbone.train()``. ``stages=0`` freezes nothing; ``stages=len(
    backbone.out_channels)`` freezes the whole extractor.

    Detection heads train faster and more stably with the early, generic layers (edges,
    textures) frozen at their ImageNet values; their small batches would also make batch-norm
    statistics noisy.
    """
    n = len(backbone.out_channels)
    if not 0 <= stages <= n:
        raise ConfigError(f"frozen_stages={stages}: must be between 0 and {n} for this backbone")
    backbone.frozen_stages = stages
    frozen = set(backbone._frozen_paths())
    for path, _ in backbone.plan:
        for p in backbone.get_submodule(path).parameters():
            p.requires_grad_(path not in frozen)
    backbone.train(backbone.training)
    return backbone


def flatten_logits(x: torch.Tensor) -> torch.Tensor:
    """``N×C×1×1 -> N×C``: the hinge between the convolutional body and a linear head."""
    return torch.flatten(x, 1)
