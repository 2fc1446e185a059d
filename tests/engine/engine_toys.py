"""Tiny models and data sets for the engine's tests (imported by path, registered once).

* ``ToyImages``: ``n`` random 3×8×8 images whose class (0..2) is decided by which colour
  channel has the largest mean: learnable in a few dozen SGD steps.
* ``toy_cnn``: conv -> ReLU -> global pool -> linear, no BatchNorm (so 2 DDP ranks × batch 2
  and 1 process × batch 4 take exactly the same step). ``nan_after`` makes the loss NaN from
  that forward call on; ``fail_at`` raises RuntimeError at that training call (a crash).
* ``toy_gan``: two tiny linear nets with two optimizers, trained through the ``train_step`` hook.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import Dataset

from visionkit.models.common import stack_labels
from visionkit.registry import MODELS

CLASSES = ["red", "green", "blue"]


class ToyImages(Dataset):
    classes = CLASSES
    task = "classification"

    def __init__(self, n: int = 32, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.images = torch.rand(n, 3, 8, 8, generator=g)
        self.images[torch.arange(n), torch.arange(n) % 3] += 0.5  # make the rule clear-cut
        self.images = self.images.clamp(0, 1)
        self.labels = self.images.mean(dim=(2, 3)).argmax(1)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], {"label": int(self.labels[i])}  # the data layer's classification sample


class ToyCNN(nn.Module):
    task = "classification"

    def __init__(self, num_classes: int = 3, width: int = 8, nan_after: int = 0, fail_at: int = 0, dropout: float = 0.0,
                 in_ch: int = 3, delay: float = 0.0):
        super().__init__()
        self.delay = delay
        self.conv = nn.Conv2d(in_ch, width, 3, padding=1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(width, num_classes)
        self.nan_after, self.fail_at, self.calls = nan_after, fail_at, 0

    def logits(self, x):
        return self.fc(self.drop(torch.relu(self.conv(x)).mean(dim=(2, 3))))

    def forward(self, images, targets=None):
        z = self.logits(images)
        if not self.training:
            return [{"logits": row} for row in z]
        self.calls += 1
        if self.delay:
            __import__("time").sleep(self.delay)
        if self.fail_at and self.calls == self.fail_at:
            raise RuntimeError(f"injected crash at training call {self.calls}")
        loss = nn.functional.cross_entropy(z, stack_labels(targets, z.device))
        if self.nan_after and self.calls >= self.nan_after:
            loss = loss * float("nan")
        return {"cls": loss}


class ToyGAN(nn.Module):
    """A 'GAN' in miniature: G maps noise to 3×8×8 images, D scores images."""

    task = "generation"

    def __init__(self, z: int = 4):
        super().__init__()
        self.z = z
        self.G = nn.Sequential(nn.Linear(z, 3 * 8 * 8), nn.Sigmoid())
        self.D = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 1))

    def configure_optimizers(self, cfg):
        return [torch.optim.Adam(self.G.parameters(), lr=cfg.lr), torch.optim.Adam(self.D.parameters(), lr=cfg.lr)]

    def forward(self, images, targets=None):
        n = images.shape[0] if isinstance(images, torch.Tensor) else len(images)
        fake = self.G(torch.randn(n, self.z, device=self.G[0].weight.device)).view(n, 3, 8, 8)
        return [{"images": f} for f in fake]

    def train_step(self, batch, optimizers, ctx):
        real, _ = batch
        opt_g, opt_d = optimizers
        bce = nn.functional.binary_cross_entropy_with_logits
        n = real.shape[0]
        fake = self.G(torch.randn(n, self.z, device=real.device)).view(n, 3, 8, 8)
        with ctx.autocast():
            d_loss = bce(self.D(real), torch.ones(n, 1)) + bce(self.D(fake.detach()), torch.zeros(n, 1))
        ctx.backward(d_loss)
        ctx.step(opt_d)
        with ctx.autocast():
            g_loss = bce(self.D(fake), torch.ones(n, 1))
        ctx.backward(g_loss)
        ctx.step(opt_g)
        return {"loss_d": d_loss.item(), "loss_g": g_loss.item()}


def toy_cnn(num_classes: int = 3, width: int = 8, nan_after: int = 0, fail_at: int = 0, dropout: float = 0.0,
            in_ch: int = 3, delay: float = 0.0) -> ToyCNN:
    """conv(in_ch -> width) -> ReLU -> global mean -> linear(num_classes)."""
    return ToyCNN(num_classes, width, nan_after, fail_at, dropout, in_ch, delay)


def toy_gan(z: int = 4) -> ToyGAN:
    return ToyGAN(z)


def register() -> None:
    """Idempotent (the same function may be registered again); does not import every model."""
    MODELS.register("toy_cnn", task="classification")(toy_cnn)
    MODELS.register("toy_gan", task="generation")(toy_gan)


register()


def toy_config(tmp_path, model=None, name="toy", **train):
    """A Config for ``toy_cnn`` writing under ``tmp_path``; ``train`` overrides TrainConfig."""
    from visionkit.config import build_config

    t = {"epochs": 2, "lr": 0.5, "momentum": 0.0, "weight_decay": 0.0, "scheduler": "constant", "device": "cpu",
         "log_every": 1, "eval_every": 1, "plots": False}
    t.update(train)
    return build_config({
        "name": name, "task": "", "model": model or {"name": "toy_cnn"}, "out_dir": str(tmp_path),
        "quiet": True, "data": {"batch_size": 4, "workers": 0, "val": ""}, "train": t,
    })


def write_idx(root, prefix: str, n: int, seed: int = 0) -> None:
    """Tiny IDX gzip files: ``n`` 8×8 grey images, label 1 ("light") when bright, else 0 ("dark")."""
    import gzip
    import struct
    from pathlib import Path

    import numpy as np

    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 2).astype(np.uint8)
    images = np.where(labels[:, None, None] == 1, rng.integers(150, 256, (n, 8, 8)), rng.integers(0, 100, (n, 8, 8))).astype(np.uint8)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with gzip.open(root / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", n, 8, 8) + images.tobytes())
    with gzip.open(root / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", n) + labels.tobytes())
