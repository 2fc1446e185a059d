"""Anchors — the reference boxes of the Region Proposal Network (Ren et al. 2015, §3.1.1).

At every position of a feature map of stride ``s`` the RPN considers ``k = |sizes|·|ratios|``
anchor boxes centred on that position: for each aspect ratio ``r = h/w`` and size ``a``,
a box of width ``a/√r`` and height ``a·√r`` (area ``a²``). The paper's default is 3 sizes
(128², 256², 512²) × 3 ratios (1:2, 1:1, 2:1) = 9 anchors per position.

The layout matches torchvision's ``AnchorGenerator`` exactly (ratios outer, sizes inner;
base anchors rounded to whole pixels; positions row-major, anchors innermost; the stride is
``image_size // feature_size`` per axis), so weights and tests carry across.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def base_anchors(sizes: Sequence[float], ratios: Sequence[float], dtype=torch.float32, device=None) -> torch.Tensor:
    """The ``k×4`` anchors centred on (0, 0), as ``(x1, y1, x2, y2)``."""
    sizes_t = torch.as_tensor(sizes, dtype=dtype, device=device)
    ratios_t = torch.as_tensor(ratios, dtype=dtype, device=device)
    h_scale = torch.sqrt(ratios_t)
    w_scale = 1 / h_scale
    ws = (w_scale[:, None] * sizes_t[None, :]).reshape(-1)
    hs = (h_scale[:, None] * sizes_t[None, :]).reshape(-1)
    return (torch.stack([-ws, -hs, ws, hs], dim=1) / 2).round()


class AnchorGenerator(nn.Module):
    """Anchors for each feature map level: ``sizes[l]`` and ``ratios[l]`` per level."""

    def __init__(self, sizes: Sequence[Sequence[float]] = ((128, 256, 512),), ratios: Sequence[Sequence[float]] = ((0.5, 1.0, 2.0),)):
        super().__init__()
        if len(ratios) == 1 and len(sizes) > 1:
            ratios = list(ratios) * len(sizes)
        if len(sizes) != len(ratios):
            raise ValueError("anchor sizes and ratios need one entry per feature level")
        self.sizes = [tuple(s) for s in sizes]
        self.ratios = [tuple(r) for r in ratios]

    def num_anchors_per_location(self) -> list[int]:
        return [len(s) * len(r) for s, r in zip(self.sizes, self.ratios)]

    def grid_anchors(self, feature_size: tuple[int, int], stride: tuple[int, int], level: int, dtype, device) -> torch.Tensor:
        """All anchors of one level: ``(H·W·k)×4``, positions row-major, anchors innermost."""
        base = base_anchors(self.sizes[level], self.ratios[level], dtype, device)
        fh, fw = feature_size
        sy, sx = stride
        ys = torch.arange(fh, dtype=torch.int32, device=device) * sy
        xs = torch.arange(fw, dtype=torch.int32, device=device) * sx
        yy, xx = torch.meshgrid(ys, xs, indexing="ij")
        xx, yy = xx.reshape(-1), yy.reshape(-1)
        shifts = torch.stack([xx, yy, xx, yy], dim=1).to(dtype)
        return (shifts[:, None, :] + base[None, :, :]).reshape(-1, 4)

    def forward(self, image_size: tuple[int, int], feature_maps: Sequence[torch.Tensor]) -> torch.Tensor:
        """Anchors of every level, concatenated: one ``A×4`` tensor shared by the batch
        (every image of a batch is padded to the same ``image_size``)."""
        out = []
        for level, fmap in enumerate(feature_maps):
            fh, fw = fmap.shape[-2:]
            stride = (image_size[0] // fh, image_size[1] // fw)
            out.append(self.grid_anchors((fh, fw), stride, level, fmap.dtype, fmap.device))
        return torch.cat(out)
