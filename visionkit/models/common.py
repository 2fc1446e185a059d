"""Pieces every task head shares: input normalisation, batching of images and stacking of
dense targets.

Images reach a model as float tensors in [0, 1] (RGB), either one ``B×3×H×W`` tensor or a
list of ``3×H×W`` tensors of any sizes. The model owns its normalisation, so exported
(ONNX/TorchScript) models and the predictor take the same raw input.

Targets reach a model in training as a ``list[dict]``, one dict per image, for every task
(docs/ARCHITECTURE.md, "Batch"). A model that needs a dense tensor stacks it itself with the
helpers below: :func:`stack_masks` (segmentation ``masks``), :func:`pad_tokens` (caption
``tokens``) and :func:`stack_labels` (classification ``label``).
"""

from __future__ import annotations

from typing import Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from ..registry import BACKBONES

Images = Union[torch.Tensor, Sequence[torch.Tensor]]
Targets = Sequence[dict]

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


def stack_masks(targets: Targets, size: tuple[int, int], ignore_index: int, device=None) -> torch.Tensor:
    """The targets' ``masks`` (H×W class maps) as one ``N×H×W`` int64 tensor of ``size``, each
    mask at the top left and the rest filled with ``ignore_index`` (the padding
    :func:`batch_images` adds to the images, and the logits cover, is not scored)."""
    out = torch.full((len(targets), *size), ignore_index, dtype=torch.int64, device=device)
    for o, t in zip(out, targets):
        m = torch.as_tensor(t["masks"])
        o[: m.shape[-2], : m.shape[-1]] = m
    return out


def pad_tokens(targets: Targets, pad_id: int = 0, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The targets' ``tokens`` (1-D word ids, <start>/<end> included) right-padded with
    ``pad_id`` to ``B×L``, and their lengths ``B``."""
    tokens = [torch.as_tensor(t["tokens"], dtype=torch.int64) for t in targets]
    lengths = torch.tensor([len(t) for t in tokens], dtype=torch.int64, device=device)
    return pad_sequence(tokens, batch_first=True, padding_value=pad_id).to(device), lengths


def stack_labels(targets: Targets, device=None) -> torch.Tensor:
    """The targets' ``label`` (one class index per image) as an int64 tensor ``B``."""
    return torch.tensor([int(t["label"]) for t in targets], dtype=torch.int64, device=device)


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
