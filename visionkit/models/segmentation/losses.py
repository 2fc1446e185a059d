"""Segmentation losses: cross-entropy with an ignore index and optional class weights
(median-frequency balancing, as in SegNet), plus an optional soft Dice term."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F


def median_frequency_weights(pixel_counts: Sequence[float], image_counts: Sequence[float]) -> list[float]:
    """SegNet's median frequency balancing (Eigen & Fergus): ``w_c = median(freq) / freq_c``
    where ``freq_c`` = pixels of class c / total pixels of the images in which c appears.
    Classes never seen get weight 0."""
    pixels = np.asarray(pixel_counts, dtype=np.float64)
    images = np.asarray(image_counts, dtype=np.float64)
    seen = images > 0
    freq = np.zeros_like(pixels)
    freq[seen] = pixels[seen] / images[seen]
    med = np.median(freq[seen]) if seen.any() else 1.0
    w = np.zeros_like(freq)
    nz = freq > 0
    w[nz] = med / freq[nz]
    return w.tolist()


def dice_loss(logits: torch.Tensor, target: torch.Tensor, ignore_index: int, eps: float = 1.0) -> torch.Tensor:
    """1 − mean soft Dice over classes, ignoring pixels labelled ``ignore_index``."""
    C = logits.shape[1]
    valid = (target != ignore_index).unsqueeze(1)
    prob = logits.softmax(1) * valid
    onehot = F.one_hot(target.clamp(0, C - 1), C).permute(0, 3, 1, 2).to(prob.dtype) * valid
    inter = (prob * onehot).sum((0, 2, 3))
    denom = prob.sum((0, 2, 3)) + onehot.sum((0, 2, 3))
    return 1 - ((2 * inter + eps) / (denom + eps)).mean()


def segmentation_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    ignore_index: int = 255,
    class_weights: Sequence[float] | None = None,
    dice_weight: float = 0.0,
) -> dict[str, torch.Tensor]:
    """``{"loss_ce": ..., ["loss_dice": ...]}`` for ``N×C×H×W`` logits and ``N×H×W`` labels."""
    weight = None
    if class_weights:
        weight = torch.as_tensor(class_weights, dtype=logits.dtype, device=logits.device)
    losses = {"loss_ce": F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index)}
    if dice_weight > 0:
        losses["loss_dice"] = dice_weight * dice_loss(logits, target, ignore_index)
    return losses
