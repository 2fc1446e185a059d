"""``visionkit generate``: sample a grid of images from a trained GAN, or walk its latent space.

    visionkit generate --weights runs/dcgan_fashion_mnist/last.pt --n 64 --out grid.png --seed 0
    visionkit generate --weights W --interpolate 10 --out walk.png     # rows of latent walks
"""

from __future__ import annotations

import click

from ..errors import UserError


@click.command()
@click.option("--weights", "-w", required=True, help="A GAN checkpoint trained with visionkit.")
@click.option("--n", type=int, default=64, show_default=True, help="Number of images (grid).")
@click.option("--out", default="grid.png", show_default=True, help="Output PNG.")
@click.option("--seed", type=int, help="Seed for reproducible samples.")
@click.option("--interpolate", type=int, default=0, help="Instead: this many steps between random latent pairs, one pair per row.")
@click.option("--device", default="auto", show_default=True)
def generate(weights, n, out, seed, interpolate, device):
    """Generate images with a trained DCGAN."""
    import torch
    from ..api import resolve_weights  # lazy: imports torch
    from ..viz import save_grid  # lazy: imports torch
    from ..engine.restore import build_from_checkpoint  # lazy: imports torch
    from ..engine.device import resolve_device  # lazy: imports torch

    model, _, _ = build_from_checkpoint(resolve_weights(weights))
    if not hasattr(model, "sample"):
        raise UserError(f"{weights}: not a generative model (task {getattr(model, 'task', '?')!r})")
    if n < 1:
        raise UserError("--n must be at least 1")
    model.to(resolve_device(device))
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    if interpolate:
        rows = max(1, n // interpolate)
        z = torch.randn(2 * rows, model.z_dim, generator=g)
        images = torch.cat([model.interpolate(z[2 * i], z[2 * i + 1], interpolate) for i in range(rows)])
        nrow = interpolate
    else:
        images = model.sample(n, generator=g)
        nrow = None
    save_grid(images, out, nrow)
    click.echo(f"{len(images)} image(s) -> {out}")
