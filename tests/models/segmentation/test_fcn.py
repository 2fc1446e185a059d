import pytest
import torch
from torch import nn

from tests.helpers.testers import SegmenterTester
from tests.helpers.tiny import TinyBackbone
from visionkit.models.segmentation.fcn import FCN, ConvClassifier
from visionkit.models.segmentation.losses import median_frequency_weights, segmentation_loss


@pytest.mark.parametrize("variant", [32, 16, 8])
@pytest.mark.parametrize("size", [(64, 64), (37, 51), (33, 95)])
def test_output_matches_any_input_size(variant, size):
    model = FCN(TinyBackbone(), num_classes=5, variant=variant, fc_channels=16, fc_kernel=3).eval()
    with torch.no_grad():
        (out,) = model(torch.rand(1, 3, *size))
    assert out["masks"].shape == size
    assert out["logits"].shape == (5, *size)
    assert out["masks"].dtype == torch.int64


def test_skips_start_at_zero_so_8s_starts_as_its_coarse_path():
    torch.manual_seed(0)
    m8 = FCN(TinyBackbone(), num_classes=4, variant=8, fc_channels=0).eval()
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        feats = m8.backbone(m8.normalize(x))
        coarse_only = m8.upsample(m8.up_c4(m8.up_c5(m8.score_c5(feats["c5"]))))
        assert torch.allclose(m8(x)[0]["logits"], coarse_only[0], atol=1e-6)


def test_classifier_convolutionised_from_linear_layers():
    fc6, fc7 = nn.Linear(8 * 3 * 3, 16), nn.Linear(16, 16)
    conv = ConvClassifier(8, 16, 3, dropout=0.0)
    conv.load_from_linear(fc6, fc7)
    x = torch.rand(2, 8, 3, 3)
    expected = torch.relu(fc7(torch.relu(fc6(x.flatten(1)))))
    # a 3×3 input with padding 1: the centre position sees the whole input, like the Linear
    assert torch.allclose(conv(x)[:, :, 1, 1], expected, atol=1e-5)


class TestFCN(SegmenterTester):
    """The void label (11) is ignored by the loss: the overfit reaches 95% of the other pixels."""

    overfit_steps, lr, loss_factor = 150, 1e-2, 0.2  # measured: 0.063
    export_formats = ()  # tests/test_export.py exports a tiny FCN through the CLI

    def build(self, **options):
        return FCN(TinyBackbone(16), num_classes=3, variant=8, fc_channels=0, ignore_index=11, **options)


def test_median_frequency_weights():
    # pixels per class / pixels of images containing the class: 100/200=0.5, 50/100=0.5, 10/100=0.1
    w = median_frequency_weights([100, 50, 10, 0], [200, 100, 100, 0])
    assert w == pytest.approx([1.0, 1.0, 5.0, 0.0])


def test_weighted_cross_entropy_and_dice():
    logits = torch.zeros(1, 2, 2, 2)
    logits[0, 0] = 5.0
    target = torch.tensor([[[0, 1], [255, 0]]])
    losses = segmentation_loss(logits, target, ignore_index=255, class_weights=[1.0, 1.0], dice_weight=1.0)
    assert set(losses) == {"loss_ce", "loss_dice"}
    unweighted = segmentation_loss(logits, target, ignore_index=255)["loss_ce"]
    assert torch.isclose(losses["loss_ce"], unweighted)
