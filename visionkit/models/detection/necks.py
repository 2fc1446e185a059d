"""Necks: what sits between a backbone's feature maps and a detection head.

* ``ReduceNeck`` — one map, its channels reduced by a 1×1 convolution (cheap RoI pooling and a
  small first FC layer: the biggest single saving on a CPU), or passed through.
* ``FPNNeck`` — a Feature Pyramid Network (``torchvision.ops.FeaturePyramidNetwork``) over some
  of the backbone's levels, fine to coarse, all ``out_channels`` wide; ``pool=True`` adds a
  max-pooled level above the coarsest (Faster R-CNN's p6 for its largest anchors).

Both describe themselves to the heads built on them, as a backbone does: ``in_features`` (the
backbone levels read, fine to coarse), ``names`` (the maps returned, in order), ``out_channels``,
``strides`` (per returned map) and ``roi_levels`` (the maps an RoI head pools from).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torchvision.ops import FeaturePyramidNetwork
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool


class ReduceNeck(nn.Module):
    """Feature ``name`` of ``backbone``, channels reduced to ``out_channels`` by a 1×1
    convolution (0: passed through)."""

    def __init__(self, backbone: nn.Module, name: str, out_channels: int):
        super().__init__()
        if name not in backbone.out_channels:
            raise ValueError(f"feature {name!r} not in this backbone's features {list(backbone.out_channels)}")
        in_channels = backbone.out_channels[name]
        self.name = name
        self.conv = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.ReLU(inplace=True)) if out_channels else nn.Identity()
        self.out_channels = out_channels or in_channels
        self.in_features = self.names = self.roi_levels = [name]
        self.strides = {name: backbone.strides[name]}

    def forward(self, feats: "OrderedDict[str, torch.Tensor]") -> "OrderedDict[str, torch.Tensor]":
        return OrderedDict([(self.name, self.conv(feats[self.name]))])


class FPNNeck(nn.Module):
    """``levels`` of ``backbone`` (e.g. c3, c4, c5) -> p3, p4, p5 (+ "pool", p6, when ``pool``),
    returned under the backbone's level names; RoI heads pool from all but "pool"."""

    def __init__(self, backbone: nn.Module, levels: list[str], out_channels: int = 256, pool: bool = True):
        super().__init__()
        missing = [k for k in levels if k not in backbone.out_channels]
        if missing:
            raise ValueError(f"fpn_levels {missing} not in this backbone's features {list(backbone.out_channels)}")
        self.levels = sorted(levels, key=backbone.strides.get)
        self.fpn = FeaturePyramidNetwork(
            [backbone.out_channels[k] for k in self.levels], out_channels, extra_blocks=LastLevelMaxPool() if pool else None
        )
        self.out_channels = out_channels
        self.in_features = self.roi_levels = list(self.levels)
        self.names = self.levels + (["pool"] if pool else [])
        self.strides = {k: backbone.strides[k] for k in self.levels}
        if pool:
            self.strides["pool"] = 2 * self.strides[self.levels[-1]]

    def forward(self, feats: "OrderedDict[str, torch.Tensor]") -> "OrderedDict[str, torch.Tensor]":
        return self.fpn(OrderedDict((k, feats[k]) for k in self.levels))
