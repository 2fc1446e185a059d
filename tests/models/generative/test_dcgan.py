import pytest
import torch
from torch import nn

from tests.helpers.testers import GeneratorTester, OptimConfig, StepContext, square_images
from visionkit.models.generative.dcgan import DCGAN, Discriminator, Generator


@pytest.mark.parametrize("size,channels", [(32, 1), (64, 3)])
def test_shapes_and_output_range(size, channels):
    g, d = Generator(size, channels, 100, 16), Discriminator(size, channels, 16)
    x = g(torch.randn(5, 100))
    assert x.shape == (5, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1
    assert d(x).shape == (5,)
    with pytest.raises(ValueError):
        Generator(48)


def test_paper_architecture_rules():
    m = DCGAN(64, 3, 100, 64, 64)
    g_layers, d_layers = list(m.generator.modules()), list(m.discriminator.modules())
    assert not any(isinstance(x, (nn.MaxPool2d, nn.AvgPool2d, nn.Linear)) for x in g_layers + d_layers)
    assert isinstance(m.generator.net[-1], nn.Tanh)
    assert m.generator.net[0].out_channels == 512  # width 64 gives 4×4×512; the paper's figure (4×4×1024) is width 128
    assert isinstance(m.discriminator.net[1], nn.LeakyReLU) and m.discriminator.net[1].negative_slope == 0.2
    assert not isinstance(m.discriminator.net[1], nn.BatchNorm2d)  # no BN on D's input layer
    w = torch.cat([p.flatten() for n, p in m.named_parameters() if n.endswith("weight") and p.dim() == 4])
    assert abs(w.std().item() - 0.02) < 0.002 and abs(w.mean().item()) < 0.001


class TestDCGAN(GeneratorTester):
    overfit_steps, loss_factor = 16, 0.9  # measured: 0.84

    def build(self, **options):
        return DCGAN(32, 1, 16, 16, 16, **options)


def test_optimizers_are_the_papers_adam():
    opts = DCGAN(32, 1, 16, 16, 16).configure_optimizers(OptimConfig())
    assert [type(o) for o in opts] == [torch.optim.Adam, torch.optim.Adam]
    assert [o.param_groups[0]["betas"] for o in opts] == [(0.5, 0.999)] * 2
    assert [o.param_groups[0]["lr"] for o in opts] == [2e-4] * 2


def test_sampling_and_interpolation():
    m = DCGAN(32, 1, 8, 8, 8).eval()
    out = m(torch.zeros(3, 1, 32, 32))
    assert len(out) == 3 and out[0]["images"].shape == (1, 32, 32)
    assert 0 <= out[0]["images"].min() and out[0]["images"].max() <= 1
    z0, z1 = torch.randn(8), torch.randn(8)
    path = m.interpolate(z0, z1, steps=5)
    assert path.shape == (5, 1, 32, 32)
    assert torch.allclose(path[0], m.sample(1, z=z0[None])[0], atol=1e-5)
    assert torch.allclose(path[-1], m.sample(1, z=z1[None])[0], atol=1e-5)


def test_r1_penalty_is_the_squared_input_gradient_of_d_at_real_images():
    import copy

    torch.manual_seed(0)
    m = DCGAN(32, 1, 16, 16, 16, r1_gamma=10.0)
    real = square_images() + 0.1 * torch.rand(16, 1, 32, 32)
    before = copy.deepcopy(m.discriminator)
    x = (real * 2 - 1).requires_grad_(True)
    (g,) = torch.autograd.grad(before(x).sum(), x)
    out = m.train_step((real, None), m.configure_optimizers(OptimConfig()), StepContext())
    assert torch.allclose(out["r1"], g.pow(2).flatten(1).sum(1).mean(), rtol=1e-4)
    assert "r1" not in DCGAN(32, 1, 16, 16, 16).train_step((real, None), m.configure_optimizers(OptimConfig()), StepContext())
    with pytest.raises(ValueError, match="r1_gamma"):
        DCGAN(32, 1, 16, 16, 16, r1_gamma=-1)


def test_r1_penalty_keeps_the_discriminator_smooth():
    """Trained on the same steps, D's input gradient at the real images stays far smaller with R1."""
    norms = {}
    for gamma in (0.0, 10.0):
        torch.manual_seed(0)
        m = DCGAN(32, 1, 16, 16, 16, r1_gamma=gamma)
        opts = m.configure_optimizers(OptimConfig())
        for _ in range(20):
            m.train_step((square_images(), None), opts, StepContext())
        x = (square_images() * 2 - 1).requires_grad_(True)
        (g,) = torch.autograd.grad(m.discriminator(x).sum(), x)
        norms[gamma] = g.pow(2).flatten(1).sum(1).mean().item()
    assert norms[10.0] < 0.2 * norms[0.0]  # 0.024 against 0.31 here
