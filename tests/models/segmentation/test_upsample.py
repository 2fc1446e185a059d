import pytest
import torch
import torch.nn.functional as F

from visionkit.models.segmentation.upsample import BilinearUpsample, bilinear_kernel


@pytest.mark.parametrize("factor", [2, 8, 16, 32])
def test_transposed_conv_starts_as_exact_bilinear_upsampling(factor):
    torch.manual_seed(0)
    x = torch.rand(2, 4, 5, 7)
    up = BilinearUpsample(4, factor)
    expected = F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)
    assert up(x).shape == expected.shape
    assert torch.allclose(up(x), expected, atol=1e-5)


def test_bilinear_kernel_is_a_separable_triangle():
    k = bilinear_kernel(4)
    assert torch.allclose(k[1], torch.tensor([0.1875, 0.5625, 0.5625, 0.1875]))
    assert torch.allclose(k, k.T)


def test_upsampling_is_learnable_and_channels_stay_separate():
    up = BilinearUpsample(3, 2)
    assert up.weight.requires_grad
    assert up.weight[0, 1].abs().sum() == 0  # no mixing between classes at start
    with pytest.raises(ValueError):
        BilinearUpsample(3, 3)
