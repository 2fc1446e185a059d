"""DCGAN — "Unsupervised Representation Learning with Deep Convolutional GANs"
(Radford, Metz & Chintala, 2016).

The paper's architecture guidelines (§3), each visible below:

* no pooling: the discriminator downsamples with strided convolutions, the generator
  upsamples with fractionally-strided (transposed) convolutions;
* batch norm in both networks, except the generator's output and the discriminator's input;
* no fully connected hidden layers: the 100-d noise z is the input of the first transposed
  convolution (a 1×1 map), and the discriminator's last convolution gives one logit;
* ReLU in the generator with tanh at the output; LeakyReLU(0.2) in the discriminator;
* weights from N(0, 0.02); Adam with lr 2e-4 and β1 = 0.5.

Training alternates a discriminator step on ``log D(x) + log(1 − D(G(z)))`` and a generator
step on the non-saturating ``log D(G(z))`` (Goodfellow et al. 2014), through the engine's
``train_step`` hook. Images are [0, 1] outside the model and [−1, 1] inside it (tanh range).

One option goes beyond the paper and is off by default: ``r1_gamma`` > 0 adds the R1 penalty
``γ/2 · E||∇ₓ D(x)||²`` on real images to the discriminator's loss (Mescheder, Geiger &
Nowozin 2018, "Which training methods for GANs actually converge?"), which damps the
oscillation of plain GAN training by keeping D smooth where the data lies.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import MODELS


def _levels(img_size: int) -> int:
    """Number of ×2 stages between the 4×4 seed and the image (32 -> 3, 64 -> 4)."""
    n = math.log2(img_size / 4)
    if img_size < 8 or n != int(n):
        raise ValueError(f"DCGAN image size must be 4·2^k (e.g. 32 or 64), got {img_size}")
    return int(n)


class Generator(nn.Module):
    """z (N×z_dim×1×1) -> 4×4 -> 8×8 -> ... -> image (N×C×S×S) in [−1, 1]."""

    def __init__(self, img_size: int = 64, channels: int = 3, z_dim: int = 100, width: int = 64):
        super().__init__()
        n = _levels(img_size)
        ch = width * 2 ** (n - 1)  # 512 for 64×64 at width 64, as in the paper's figure 1
        layers = [nn.ConvTranspose2d(z_dim, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.z_dim = z_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))


class Discriminator(nn.Module):
    """image -> strided convs (LeakyReLU 0.2, BN after the first) -> one real/fake logit."""

    def __init__(self, img_size: int = 64, channels: int = 3, width: int = 64):
        super().__init__()
        n = _levels(img_size)
        layers = [nn.Conv2d(channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        ch = width
        for _ in range(n - 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2, True)]
            ch *= 2
        layers += [nn.Conv2d(ch, 1, 4, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


def dcgan_init(module: nn.Module) -> None:
    """The paper's initialisation: conv weights ~ N(0, 0.02); BN scale ~ N(1, 0.02), shift 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGAN(nn.Module):
    task = "generation"

    def __init__(self, img_size: int = 64, channels: int = 3, z_dim: int = 100, g_width: int = 64, d_width: int = 64,
                 r1_gamma: float = 0.0):
        super().__init__()
        if r1_gamma < 0:
            raise ValueError(f"DCGAN r1_gamma must be >= 0, got {r1_gamma}")
        self.img_size, self.channels, self.z_dim, self.r1_gamma = img_size, channels, z_dim, float(r1_gamma)
        self.generator = Generator(img_size, channels, z_dim, g_width)
        self.discriminator = Discriminator(img_size, channels, d_width)
        dcgan_init(self)
        self.fid_extractor = None  # a callable images -> N×D features, set by the engine (eval.fid_weights)
        self.register_buffer("grid_z", torch.randn(64, z_dim, generator=torch.Generator().manual_seed(0)), persistent=False)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, z: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` images in [0, 1] (N×C×S×S); ``z`` overrides the random noise."""
        device = next(self.parameters()).device
        if z is None:
            z = torch.randn(n, self.z_dim, generator=generator).to(device)
        return (self.generator(z.to(device)) + 1) / 2

    @torch.no_grad()
    def interpolate(self, z0: torch.Tensor, z1: torch.Tensor, steps: int = 8, spherical: bool = True) -> torch.Tensor:
        """Images along the path from ``z0`` to ``z1`` in latent space (slerp by default,
        which stays on the shell where Gaussian noise lives)."""
        t = torch.linspace(0, 1, steps)[:, None]
        if spherical:
            omega = torch.acos((F.normalize(z0, dim=0) * F.normalize(z1, dim=0)).sum().clamp(-1, 1))
            so = torch.sin(omega)
            z = (torch.sin((1 - t) * omega) / so) * z0 + (torch.sin(t * omega) / so) * z1 if so > 1e-6 else (1 - t) * z0 + t * z1
        else:
            z = (1 - t) * z0 + t * z1
        return self.sample(steps, z=z)

    def forward(self, images, targets=None):
        """Eval contract: as many generated images as ``images`` holds, ``[{"images": C×S×S}]``."""
        n = images.shape[0] if isinstance(images, torch.Tensor) else len(images)
        return [{"images": x} for x in self.sample(n)]

    @torch.no_grad()
    def fixed_samples(self) -> torch.Tensor:
        """The images (in eval mode, N×C×S×S in [0, 1]) of the same 64 noise vectors every time:
        drawn after each epoch (the engine's ``SampleGrid`` hook writes ``samples/epoch_NNN.png``),
        they are the paper's way of watching a GAN learn (and not memorise)."""
        was_training = self.training
        self.eval()
        try:
            return self.sample(len(self.grid_z), z=self.grid_z)
        finally:
            self.train(was_training)

    def fid_features(self, images: torch.Tensor) -> torch.Tensor:
        if self.fid_extractor is None:
            raise RuntimeError("no FID feature extractor set")
        return self.fid_extractor(images)

    # ----------------------------------------------------------- engine hook: two optimizers

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        """Adam for G and for D with the config's lr and betas (the paper: 2e-4, (0.5, 0.999))."""
        kw = dict(lr=train_cfg.lr, betas=tuple(train_cfg.betas), weight_decay=train_cfg.weight_decay)
        return [torch.optim.Adam(self.generator.parameters(), **kw), torch.optim.Adam(self.discriminator.parameters(), **kw)]

    def train_step(self, batch, optimizers, ctx) -> dict[str, float]:
        """One D step and one G step on ``batch = (images in [0, 1], targets)`` (targets unused)."""
        opt_g, opt_d = optimizers
        real, _ = batch
        real = (real * 2 - 1).requires_grad_(self.r1_gamma > 0)
        n = real.shape[0]
        z = torch.randn(n, self.z_dim, device=real.device)
        ones, zeros = torch.ones(n, device=real.device), torch.zeros(n, device=real.device)

        with ctx.autocast():  # discriminator: real -> 1, fake -> 0
            fake = self.generator(z)
            d_real = self.discriminator(real)
            d_fake = self.discriminator(fake.detach())
            loss_d = F.binary_cross_entropy_with_logits(d_real, ones) + F.binary_cross_entropy_with_logits(d_fake, zeros)
        logs = {}
        if self.r1_gamma > 0:  # R1: the squared gradient norm of D's logit at the real images
            (grad,) = torch.autograd.grad(d_real.float().sum(), real, create_graph=True)
            logs["r1"] = grad.float().pow(2).flatten(1).sum(1).mean()
            loss_d = loss_d + self.r1_gamma / 2 * logs["r1"]
        ctx.backward(loss_d)
        ctx.step(opt_d)

        with ctx.autocast():  # generator: make D call the fakes real
            loss_g = F.binary_cross_entropy_with_logits(self.discriminator(fake), ones)
        ctx.backward(loss_g)
        ctx.step(opt_g)
        return {
            "loss_d": loss_d.detach(), "loss_g": loss_g.detach(),
            "d_real": d_real.detach().sigmoid().mean(), "d_fake": d_fake.detach().sigmoid().mean(),
            **{k: v.detach() for k, v in logs.items()},
        }


@MODELS.register("dcgan", task="generation")
def dcgan(img_size: int = 32, channels: int = 1, z_dim: int = 100, g_width: int = 64, d_width: int = 64,
          r1_gamma: float = 0.0) -> DCGAN:
    """DCGAN for 32×32 or 64×64 images with 1 or 3 channels; ``r1_gamma`` > 0 adds the R1 penalty."""
    return DCGAN(img_size, channels, z_dim, g_width, d_width, r1_gamma)
