import json
import warnings

import pytest

from visionkit.backbones import weights
from visionkit.cli import main


def test_summary_resnet50_prints_the_table_and_totals(capsys):
    assert main(["summary", "resnet50"]) == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "k7 s2 p3" in out and "64x112x112" in out
    assert "layer4.2.conv3" in out
    assert "25,557,032" in out and "4,089,184,256" in out


def test_summary_uses_the_models_own_input_and_options(capsys):
    assert main(["summary", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert "1x1x32x32" in out and "416,520" in out
    assert main(["summary", "vgg16", "--input", "3x224x224", "--depth", "1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in d["rows"]] == ["features", "avgpool", "classifier"]
    assert d["total_params"] == 138_357_544 and d["macs"] == 15_470_264_320
    assert main(["summary", "resnet18", "--input", "112"]) == 0  # a side: channels from the model
    assert "512x4x4" in capsys.readouterr().out


def test_summary_user_errors(capsys):
    assert main(["summary", "resnet5"]) == 2
    err = capsys.readouterr().err
    assert err == "error: unknown model 'resnet5'; did you mean 'resnet50'?\n"
    assert main(["summary", "vgg16", "--input", "3x16x16"]) == 2
    assert "cannot run on a 3x16x16 input" in capsys.readouterr().err
    assert main(["summary", "vgg16", "--input", "3x"]) == 2
    assert "expected CxHxW" in capsys.readouterr().err


def test_models_lists_every_registry(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by = {(r["kind"], r["name"]): r for r in rows}
    assert by[("classifier", "resnet50")]["params"] == 25_557_032
    assert by[("classifier", "lenet5")]["weights"] == "-"
    assert by[("backbone", "vgg16")]["task"] == "backbone"
    assert {r["kind"] for r in rows} >= {"classifier", "backbone"}
    if weights.package_file(weights.get("mobilenet_v2")) is not None:
        assert by[("classifier", "mobilenet_v2")]["weights"] == "yes"


def test_models_table_and_task_filter(capsys):
    assert main(["models", "--task", "classification"]) == 0
    out = capsys.readouterr().out
    assert "138,357,544" in out and "backbone " not in out
    assert main(["models", "--task", "clasification"]) == 2
    assert "did you mean 'classification'" in capsys.readouterr().err


def test_models_prints_no_warnings(capsys):
    """Built on the meta device, models that would load pretrained files do not try (each try
    warned once per parameter: 312 lines above the table)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["models", "--task", "segmentation"]) == 0
    assert [str(w.message) for w in caught] == []
    out = capsys.readouterr()
    assert "smp_unet" in out.out and out.err == ""


@pytest.mark.parametrize("verb", ["models", "summary", "weights"])
def test_help(verb, capsys):
    assert main([verb, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_summary_falls_back_to_a_real_forward_for_data_dependent_models(capsys, monkeypatch):
    import torch
    from torch import nn

    from visionkit.registry import MODELS, Entry

    class Picky(nn.Module):
        """Keeps the positive activations: nonzero() has no meta implementation."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 2, 3)

        def forward(self, x):
            y = self.conv(x)
            return [{"kept": y[0][y[0] > 0]}]

    def picky_model() -> nn.Module:
        return Picky()

    MODELS.names()  # load the real entries first
    monkeypatch.setitem(MODELS._entries, "picky_toy", Entry("picky_toy", picky_model, "detection"))
    assert main(["summary", "picky_toy", "--input", "3x10x10"]) == 0
    out = capsys.readouterr().out
    assert "2x8x8" in out and "56" in out  # conv params: 2*3*9 + 2
    assert f"{8 * 8 * 2 * 3 * 9:,}" in out
