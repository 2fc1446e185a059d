"""summarize(): shapes, parameters and multiply-adds checked against hand computations."""

import pytest
import torch
from torch import nn

from visionkit.registry import CLASSIFIERS
from visionkit.summary import geometry, human, summarize


def test_lenet5_by_hand():
    s = summarize(CLASSIFIERS.build("lenet5"), (1, 32, 32))
    rows = {r.name: r for r in s.visible()}
    # out = floor((N + 2P - F) / S) + 1 at every conv and pool
    assert rows["features.0"].output == "6x28x28" and rows["features.0"].geometry == "k5 s1 p0"
    assert rows["features.2"].output == "6x14x14" and rows["features.2"].geometry == "k2 s2 p0"
    assert rows["features.3"].output == "16x10x10"
    assert rows["features.5"].output == "16x5x5"
    assert rows["classifier.0"].input == "400"
    macs = {n: r.macs for n, r in rows.items() if r.macs}
    assert macs == {
        "features.0": 28 * 28 * 6 * (1 * 5 * 5),
        "features.3": 10 * 10 * 16 * (6 * 5 * 5),
        "classifier.0": 400 * 120,
        "classifier.2": 120 * 84,
        "classifier.4": 84 * 10,
    }
    assert s.macs == 416_520
    assert s.total_params == s.trainable_params == 61_706
    assert s.output == "1x10"


def vgg16_by_hand():
    """(params, MACs) of VGG-16 at 224x224 from its layer list."""
    convs = [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128)]
    convs += [(56, 128, 256)] + [(56, 256, 256)] * 2
    convs += [(28, 256, 512)] + [(28, 512, 512)] * 2
    convs += [(14, 512, 512)] * 3
    params = sum(cout * cin * 9 + cout for _, cin, cout in convs)
    macs = sum(side * side * cout * cin * 9 for side, cin, cout in convs)
    fcs = [(512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)]
    params += sum(i * o + o for i, o in fcs)
    macs += sum(i * o for i, o in fcs)
    return params, macs, convs


def test_vgg16_by_hand():
    params, macs, convs = vgg16_by_hand()
    assert params == 138_357_544
    assert round(macs / 1e9, 2) == 15.47
    with torch.device("meta"):  # no memory, no arithmetic: shapes give the counts
        model = CLASSIFIERS.build("vgg16")
    s = summarize(model, (3, 224, 224))
    assert s.total_params == params and s.macs == macs
    conv_rows = [r for r in s.visible() if r.type == "Conv2d"]
    assert [r.output for r in conv_rows] == [f"{cout}x{side}x{side}" for side, _, cout in convs]
    assert [r.macs for r in conv_rows] == [side * side * cout * cin * 9 for side, cin, cout in convs]
    pools = [r.output for r in s.visible() if r.type == "MaxPool2d"]
    assert pools == ["64x112x112", "128x56x56", "256x28x28", "512x14x14", "512x7x7"]
    # depth 1: the Sequential `features` is never called as a whole; it is rebuilt from its layers
    top = s.visible(1)
    assert [r.name for r in top] == ["features", "avgpool", "classifier"]
    assert top[0].input == "3x224x224" and top[0].output == "512x7x7"
    assert sum(r.params for r in top) == params and sum(r.macs for r in top) == macs
    table = s.format_table()
    assert "138,357,544" in table and "15,470,264,320" in table


def test_transposed_grouped_and_shared_layers():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(
        nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2),  # 8x8 -> 4x4
        nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1),  # 4x4 -> (4-1)*2 - 2 + 4 = 8
        nn.Flatten(),
        nn.Linear(4 * 8 * 8, 3),
        shared,
        shared,
    )
    model.train()
    s = summarize(model, (4, 8, 8))
    assert model.training  # mode restored
    rows = s.visible()
    assert [r.output for r in rows] == ["8x4x4", "4x8x8", "256", "3", "3", "3"]
    assert rows[0].geometry == "k3 s2 p1 g2"
    assert rows[0].macs == 8 * 4 * 4 * (4 // 2) * 3 * 3
    assert rows[1].macs == (8 * 4 * 4) * 4 * 4 * 4  # input elements x C_out x kernel
    assert rows[3].macs == 256 * 3
    assert [r.params for r in rows[4:]] == [12, 0]  # a shared layer owns its weights once
    assert [r.macs for r in rows[4:]] == [9, 9]  # but computes twice
    assert s.total_params == sum(p.numel() for p in model.parameters())


def test_containers_that_run_report_their_own_output():
    with torch.device("meta"):
        model = CLASSIFIERS.build("googlenet")
    s = summarize(model)
    rows = {r.name: r for r in s.visible(1)}
    assert rows["inception3a"].output == "256x28x28"  # the concatenation, not a branch
    assert rows["inception3a"].params == sum(p.numel() for p in model.inception3a.parameters())
    assert rows["maxpool1"].geometry == "k3 s2 p0 ceil"
    assert sum(r.macs for r in rows.values()) == s.macs


def test_backbone_output_is_described_per_feature():
    with torch.device("meta"):
        from visionkit.registry import BACKBONES

        b = BACKBONES.build("resnet18")
    s = summarize(b, (3, 64, 64))
    assert s.output.startswith("{c1: 1x64x32x32, c2: 1x64x16x16") and s.output.endswith("c5: 1x512x2x2}")
    assert s.visible()[0].input == "3x64x64"


@pytest.mark.parametrize("n,text", [(15_470_264_320, "15.47G"), (2_048_000, "2.05M"), (840, "840")])
def test_human(n, text):
    assert human(n) == text


def test_geometry_of_adaptive_pool():
    assert geometry(nn.AdaptiveAvgPool2d((7, 7))) == "-> 7"
    assert geometry(nn.Conv2d(1, 1, (3, 1), padding=(1, 0), dilation=2)) == "k3x1 s1 p1x0 d2"


@pytest.mark.parametrize(
    "name", ["alexnet", "vgg11", "vgg16_bn", "googlenet", "resnet18", "resnet34", "resnet50", "densenet121", "mobilenet_v2"]
)
def test_macs_equal_torchvisions_published_ops(name):
    """torchvision's weight metadata lists each model's GMACs at 224 (its ``_ops``)."""
    import torchvision.models as tvm

    published = [w for w in tvm.get_model_weights(name) if w.name == "IMAGENET1K_V1"][0].meta["_ops"]
    with torch.device("meta"):
        model = CLASSIFIERS.build(name)
    assert round(summarize(model, (3, 224, 224)).macs / 1e9, 3) == published
