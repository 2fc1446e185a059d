"""Box coding: boxes <-> regression deltas relative to a reference box (R-CNN, appendix C).

For a reference (anchor or proposal) box with centre ``(px, py)`` and size ``(pw, ph)`` and a
target box ``(gx, gy, gw, gh)``, the network regresses

    tx = wx·(gx − px)/pw    ty = wy·(gy − py)/ph    tw = ww·log(gw/pw)    th = wh·log(gh/ph)

Offsets are scale-invariant, sizes log-space. The weights ``(wx, wy, ww, wh)`` rescale the
targets to unit-ish variance: (1, 1, 1, 1) for the RPN and (10, 10, 5, 5) for the detection
head, as in Detectron/torchvision. Decoding clips ``tw, th`` at log(1000/16) so that a wild
prediction cannot overflow ``exp``. Widths are ``x2 − x1`` (continuous coordinates), the
convention of torchvision's ``BoxCoder``, with which this coder agrees to float precision.
"""

from __future__ import annotations

import math

import torch


class BoxCoder:
    def __init__(self, weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0), clip: float = math.log(1000.0 / 16)):
        self.weights = weights
        self.clip = clip

    def encode(self, targets: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
        """Deltas (N×4) that turn each reference box into its target box."""
        wx, wy, ww, wh = self.weights
        pw = references[:, 2] - references[:, 0]
        ph = references[:, 3] - references[:, 1]
        px = references[:, 0] + 0.5 * pw
        py = references[:, 1] + 0.5 * ph
        gw = targets[:, 2] - targets[:, 0]
        gh = targets[:, 3] - targets[:, 1]
        gx = targets[:, 0] + 0.5 * gw
        gy = targets[:, 1] + 0.5 * gh
        return torch.stack(
            [wx * (gx - px) / pw, wy * (gy - py) / ph, ww * torch.log(gw / pw), wh * torch.log(gh / ph)], dim=1
        )

    def decode(self, deltas: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
        """Boxes from deltas. ``deltas`` is N×(4·C) (C boxes per reference, e.g. one per
        class); the result is N×C×4."""
        references = references.to(deltas.dtype)
        wx, wy, ww, wh = self.weights
        pw = (references[:, 2] - references[:, 0])[:, None]
        ph = (references[:, 3] - references[:, 1])[:, None]
        px = references[:, 0][:, None] + 0.5 * pw
        py = references[:, 1][:, None] + 0.5 * ph
        d = deltas.reshape(deltas.shape[0], -1, 4)
        cx = d[..., 0] / wx * pw + px
        cy = d[..., 1] / wy * ph + py
        w = torch.exp((d[..., 2] / ww).clamp(max=self.clip)) * pw
        h = torch.exp((d[..., 3] / wh).clamp(max=self.clip)) * ph
        return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=-1)
