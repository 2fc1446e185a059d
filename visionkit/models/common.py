"""Pieces every task head shares: input normalisation and batching of images.

Images reach a model as float tensors in [0, 1] (RGB), either one ``B×3×H×W`` tensor or a
list of ``3×H×W`` tensors of any sizes. The model owns its normalisation, so exported
(ONNX/TorchScript) models and the predictor take the same raw input.
"""

from __future__ import annotations

from typing import Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import BACKBONES

Images = Union[torch.Tensor, Sequence[torch.Tensor]]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel, with ImageNet statistics by default."""

    def __init__(self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)


def batch_images(images: Images, size_divisible: int = 1) -> tuple[torch.Tensor, list[tuple[int, int]]]:
    """Stack images into one tensor, zero-padding at the bottom/right to a common size that is
    a multiple of ``size_divisible``. Returns the batch and each image's own (h, w)."""
    if isinstance(images, torch.Tensor):
        if images.dim() == 3:
            images = images.unsqueeze(0)
        if images.dim() != 4:
            raise ValueError(f"expected B×C×H×W images, got shape {tuple(images.shape)}")
        h, w = images.shape[-2:]
        sizes = [(int(h), int(w))] * images.shape[0]
        pad_h = (-h) % size_divisible
        pad_w = (-w) % size_divisible
        if pad_h or pad_w:
            images = F.pad(images, (0, pad_w, 0, pad_h))
        return images, sizes
    images = list(images)
    if not images:
        raise ValueError("no images given")
    sizes = [(int(im.shape[-2]), int(im.shape[-1])) for im in images]
    H = max(h for h, _ in sizes)
    W = max(w for _, w in sizes)
    H += (-H) % size_divisible
    W += (-W) % size_divisible
    batch = images[0].new_zeros((len(images), images[0].shape[0], H, W))
    for b, im in zip(batch, images):
        b[:, : im.shape[-2], : im.shape[-1]].copy_(im)
    return batch, sizes


def build_backbone(name: str, pretrained: bool, frozen_stages: int = 0) -> nn.Module:
    """A zoo backbone for a task head (``frozen_stages`` only passed when set, so backbones
    that cannot freeze still build)."""
    kwargs = {"pretrained": pretrained}
    if frozen_stages:
        kwargs["frozen_stages"] = frozen_stages
    return BACKBONES.build(name, where="model.backbone", **kwargs)


@torch.no_grad()
def fuse_conv_bn(model: nn.Module) -> int:
    """Fold every BatchNorm that directly follows a convolution inside an ``nn.Sequential``
    into that convolution (eval mode only: the running statistics become conv weights).
    Returns how many pairs were fused. Outputs are unchanged up to float rounding."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    if model.training:
        raise RuntimeError("fuse_conv_bn needs a model in eval mode")
    fused = 0
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        for a, b in zip(names, names[1:]):
            conv, bn = seq._modules[a], seq._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                seq._modules[a] = fuse_conv_bn_eval(conv, bn)
                seq._modules[b] = nn.Identity()
                fused += 1
    return fused
