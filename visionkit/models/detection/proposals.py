"""The proposal stage of R-CNN and Fast R-CNN: selective search boxes for a batch.

In training, the boxes come with the samples (``target["proposals"]``: computed once per
original image by :mod:`visionkit.models.detection.selective_search` and augmented with it). At inference the
proposer runs selective search on the input image itself, through the same on-disk cache, so
evaluating a fixed test set twice costs the search only once.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .selective_search import ProposalCache


class SelectiveSearchProposer:
    """Batch images (N×3×H×W floats in [0, 1], padded) -> proposals per image as tensors, at
    most ``top_n`` (training, testing) of them: the ``targets``' own when they carry them,
    else selective search on the image (cached by content)."""

    def __init__(self, cache_dir: str | Path, top_n: tuple[int, int] = (2000, 1000), **params):
        self.cache = ProposalCache(cache_dir, **params)
        self.top_n = top_n

    def __call__(self, images, sizes: list[tuple[int, int]], training: bool, targets: list[dict] | None = None):
        n = self.top_n[0 if training else 1]
        if training and targets and all("proposals" in t for t in targets):
            return [t["proposals"][:n].to(images.device, torch.float32) for t in targets]
        out = []
        for img, (h, w) in zip(images, sizes):
            rgb = (img[:, :h, :w].detach() * 255).round().clamp(0, 255).byte().permute(1, 2, 0).cpu().numpy()
            out.append(torch.from_numpy(self.cache(rgb)[:n]).to(img.device, img.dtype))
        return out
