import pytest
import torch
import torchvision.models as tvm

from visionkit.registry import BACKBONES, CLASSIFIERS


@pytest.mark.parametrize(
    "name,count",
    [("vgg11", 132_863_336), ("vgg11_bn", 132_868_840), ("vgg16", 138_357_544), ("vgg16_bn", 138_365_992)],
)
def test_matches_torchvision(assert_like_torchvision, name, count):
    assert_like_torchvision(lambda: CLASSIFIERS.build(name), getattr(tvm, name), count)


def test_features_are_the_pool_outputs():
    b = BACKBONES.build("vgg16")
    pools = [p for p, name in b.plan if name]
    assert pools == ["features.4", "features.9", "features.16", "features.23", "features.30"]
    assert b.out_channels == {"c1": 64, "c2": 128, "c3": 256, "c4": 512, "c5": 512}


def test_fc_layers_have_torchvisions_names():
    with torch.device("meta"):  # 138 M parameters: no need to allocate them
        m = CLASSIFIERS.build("vgg16", num_classes=21)
    names = [n for n, _ in m.named_parameters() if n.startswith("classifier")]
    assert names == [f"classifier.{i}.{w}" for i in (0, 3, 6) for w in ("weight", "bias")]
    assert m.classifier[0].weight.shape == (4096, 512 * 7 * 7)  # fc6 -> a 7x7 conv in FCN
    assert m.classifier[6].out_features == 21


def test_linear_to_conv_is_the_same_function():
    from visionkit.backbones.vgg import linear_to_conv

    torch.manual_seed(0)
    fc = torch.nn.Linear(8 * 3 * 3, 5)
    conv = linear_to_conv(fc, 8, 3)
    x = torch.randn(2, 8, 3, 3)
    torch.testing.assert_close(conv(x).flatten(1), fc(x.flatten(1)))
    # on a bigger map it slides: each 3x3 window gets the fc's answer
    big = torch.randn(1, 8, 5, 5)
    assert conv(big).shape == (1, 5, 3, 3)
    torch.testing.assert_close(conv(big)[0, :, 1, 2], fc(big[:, :, 1:4, 2:5].flatten(1))[0])
    with pytest.raises(ValueError):
        linear_to_conv(fc, 8, 7)
