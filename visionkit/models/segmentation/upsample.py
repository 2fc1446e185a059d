"""Learnable upsampling by transposed convolution, initialised to bilinear interpolation.

FCN (Long et al., 2015, §3.3) upsamples coarse class scores with "deconvolution" layers whose
filters start as bilinear interpolation and are then learned. With kernel ``2f``, stride
``f`` and padding ``f/2``, a transposed convolution maps an ``n``-pixel input to exactly
``f·n`` pixels: ``(n − 1)·f − 2·(f/2) + 2f = f·n``. Away from the border its output equals
``F.interpolate(scale_factor=f, mode="bilinear", align_corners=False)``. At the border a plain
transposed convolution sees zeros where interpolation repeats the edge pixel, so the input is
first padded by one replicated pixel and the ``f`` extra output pixels on each side are
cropped: the layer then *starts* as exact bilinear upsampling everywhere.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def bilinear_kernel(size: int) -> torch.Tensor:
    """The ``size×size`` bilinear interpolation filter (outer product of a triangle)."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = torch.arange(size, dtype=torch.float64)
    filt = 1 - (og - center).abs() / factor
    return (filt[:, None] * filt[None, :]).float()


class BilinearUpsample(nn.ConvTranspose2d):
    """``channels -> channels`` transposed convolution upsampling by ``factor`` (even, or 1 is
    not allowed), initialised so that each channel is bilinearly interpolated on its own."""

    def __init__(self, channels: int, factor: int, learnable: bool = True):
        if factor < 2 or factor % 2:
            raise ValueError(f"upsampling factor must be an even integer >= 2, got {factor}")
        super().__init__(channels, channels, kernel_size=2 * factor, stride=factor, padding=factor // 2, bias=False)
        self.factor = factor
        self.reset_to_bilinear()
        self.weight.requires_grad_(learnable)

    @torch.no_grad()
    def reset_to_bilinear(self) -> None:
        self.weight.zero_()
        kernel = bilinear_kernel(self.kernel_size[0])
        for c in range(self.in_channels):
            self.weight[c, c] = kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.factor
        y = super().forward(F.pad(x, (1, 1, 1, 1), mode="replicate"))
        return y[..., f:-f, f:-f]
