"""The backbone contract, checked on every registered backbone, and freezing."""

import math

import pytest
import torch
from torch import nn

from visionkit.backbones import Backbone, freeze
from visionkit.errors import ConfigError
from visionkit.registry import BACKBONES, CLASSIFIERS

EXPECTED = ["alexnet", "densenet121", "googlenet", "lenet5", "mobilenet_v2", "resnet18", "resnet34",
            "resnet50", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn"]


def expected_size(name: str, h: int, key: str) -> int:
    """Hand-worked spatial sizes. Padded nets: ceil(h / stride). Unpadded ones shrink more."""
    if name == "lenet5":
        c1 = (h - 4) // 2
        return {"c1": c1, "c2": (c1 - 4) // 2}[key]
    if name == "alexnet":
        c2 = (h + 4 - 11) // 4 + 1
        c3 = (c2 - 3) // 2 + 1
        c4 = (c3 - 3) // 2 + 1
        return {"c2": c2, "c3": c3, "c4": c4, "c5": (c4 - 3) // 2 + 1}[key]
    return math.ceil(h / {"c1": 2, "c2": 4, "c3": 8, "c4": 16, "c5": 32}[key])


def test_every_network_is_registered_in_both_forms():
    # darknet24 (YOLOv1's network) is a detection backbone only, with no classifier form;
    # tiny_test is registered by the model tests
    assert set(EXPECTED) <= set(BACKBONES.names())
    assert set(BACKBONES.names()) - set(EXPECTED) <= {"darknet24", "tiny_test"}
    assert CLASSIFIERS.names() == EXPECTED
    for e in BACKBONES.entries():
        assert e.task == "backbone"
    for e in CLASSIFIERS.entries():
        assert e.task == "classification"
        assert e.info.get("weights", e.name) == e.name or e.name == "lenet5"


# big siblings of networks run for real below: shapes on the meta device are enough for them
SHAPES_ONLY = {"resnet34", "resnet50", "vgg11_bn", "vgg16", "vgg16_bn"}


@pytest.mark.parametrize("name", EXPECTED)
def test_feature_contract(name):
    torch.manual_seed(0)
    device = torch.device("meta" if name in SHAPES_ONLY else "cpu")
    with device:
        b = BACKBONES.build(name).eval()
    assert isinstance(b, Backbone)
    h, c = (32, 1) if name == "lenet5" else (64, 3)
    with torch.no_grad():
        feats = b(torch.randn(2, c, h, h, device=device))
        assert device.type == "meta" or all(f.isfinite().all() for f in feats.values())
    assert list(feats) == list(b.out_channels) == list(b.strides)
    assert b.last == list(feats)[-1]
    for key, f in feats.items():
        assert key in {"c1", "c2", "c3", "c4", "c5"}
        # cK means nominal stride 2**K
        assert b.strides[key] == 2 ** int(key[1])
        assert f.shape[:2] == (2, b.out_channels[key]), key
        assert f.shape[2] == f.shape[3] == expected_size(name, h, key), key
    if name not in ("lenet5", "alexnet"):
        assert list(feats) == ["c1", "c2", "c3", "c4", "c5"]
    # one stage per feature, and together they hold every weight of the extractor
    assert len(b.stages()) == len(b.out_channels)
    freeze(b, len(b.out_channels))
    assert not any(p.requires_grad for p in b.parameters())


def test_alexnet_sizes_at_224_are_the_textbook_ones():
    assert [expected_size("alexnet", 224, k) for k in ("c2", "c3", "c4", "c5")] == [55, 27, 13, 6]


def test_freeze_stops_gradients_and_keeps_frozen_batchnorm_in_eval():
    b = BACKBONES.build("resnet18", frozen_stages=2)
    assert b.stages()[:2] == [["conv1", "bn1", "relu"], ["maxpool", "layer1"]]
    b.train()
    frozen = [b.conv1, b.bn1, b.layer1]
    for m in frozen:
        assert all(not p.requires_grad for p in m.parameters())
    assert all(p.requires_grad for p in b.layer2.parameters())
    assert not b.bn1.training and not b.layer1[0].bn1.training
    assert b.layer2[0].bn1.training
    # running statistics of frozen BN do not move
    before = b.bn1.running_mean.clone()
    out = b(torch.randn(2, 3, 32, 32))
    assert torch.equal(b.bn1.running_mean, before)
    out["c5"].sum().backward()
    assert b.conv1.weight.grad is None and b.layer2[0].conv1.weight.grad is not None


def test_freeze_zero_and_all_and_out_of_range():
    b = BACKBONES.build("mobilenet_v2")
    assert all(p.requires_grad for p in b.parameters())
    freeze(b, 5)
    assert not any(p.requires_grad for p in b.parameters())
    freeze(b, 0)
    assert all(p.requires_grad for p in b.parameters())
    with pytest.raises(ConfigError, match="frozen_stages=6"):
        freeze(b, 6)
    with pytest.raises(ConfigError, match="frozen_stages"):
        BACKBONES.build("lenet5", frozen_stages=3)


def test_classifier_keeps_features_reachable():
    with torch.device("meta"):  # shapes only
        m = CLASSIFIERS.build("vgg11")
        assert isinstance(m.classifier[0], nn.Linear) and m.classifier[0].in_features == 512 * 7 * 7
        feats = m.extract(torch.randn(1, 3, 64, 64))
        assert m(torch.randn(1, 3, 64, 64)).shape == (1, 1000)
    assert feats["c3"].shape == (1, 256, 8, 8)


def test_builder_signature_is_the_config_schema():
    with pytest.raises(ConfigError, match="did you mean 'frozen_stages'"):
        BACKBONES.build("resnet18", frozen_stage=1)


@pytest.mark.parametrize("name", ["mobilenet_v2", "resnet18"])
def test_truncate_stops_at_a_feature_and_drops_the_later_layers(name):
    full = BACKBONES.build(name).eval()
    cut = BACKBONES.build(name).eval()
    cut.load_state_dict(full.state_dict())
    n_full = sum(p.numel() for p in full.parameters())
    cut.truncate("c4")
    assert list(cut.out_channels) == ["c1", "c2", "c3", "c4"] and cut.last == "c4"
    assert sum(p.numel() for p in cut.parameters()) < n_full / 2  # c5 holds most of the weights
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        a, b = full(x), cut(x)
    assert list(b) == ["c1", "c2", "c3", "c4"] and torch.equal(a["c4"], b["c4"])
    with pytest.raises(ValueError, match="no feature 'c9'"):
        cut.truncate("c9")
