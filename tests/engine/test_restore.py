"""Rebuilding a model from a checkpoint: EMA weights preferred, clear errors, no ImageNet file
needed."""

from __future__ import annotations

import engine_toys as T
import pytest
import torch

from visionkit.config import to_dict
from visionkit.engine.checkpoint import load_checkpoint, save_checkpoint
from visionkit.engine.restore import build_from_checkpoint
from visionkit.errors import WeightsError


def _state():
    model = T.toy_cnn()
    return {"model": model.state_dict(), "config": to_dict(T.toy_config("/tmp/unused")), "task": "classification",
            "classes": T.CLASSES}, model


def test_build_from_checkpoint_prefers_ema(tmp_path):
    state, model = _state()
    ema_model = T.toy_cnn()
    state["ema"] = {f"module.{k}": v for k, v in ema_model.state_dict().items()} | {"n_averaged": torch.tensor(3)}
    save_checkpoint(tmp_path / "c.pt", state)
    rebuilt, cfg, classes = build_from_checkpoint(tmp_path / "c.pt")
    assert classes == T.CLASSES and cfg.model["name"] == "toy_cnn" and not rebuilt.training
    assert torch.equal(rebuilt.fc.weight, ema_model.fc.weight)
    plain, _, _ = build_from_checkpoint(load_checkpoint(tmp_path / "c.pt"), use_ema=False)
    assert torch.equal(plain.fc.weight, model.fc.weight)
    state["model"] = {"fc.weight": torch.zeros(1)}
    state["ema"] = None
    save_checkpoint(tmp_path / "bad.pt", state)
    with pytest.raises(WeightsError, match="do not fit this model 'toy_cnn'"):
        build_from_checkpoint(tmp_path / "bad.pt")


def test_rebuilding_from_a_checkpoint_never_needs_imagenet_weights(tmp_path, monkeypatch):
    """A fresh install without the ImageNet file must still load a trained checkpoint."""
    from visionkit.backbones import weights
    from visionkit.config import build_config
    from visionkit.engine.build import build_model

    cfg = build_config({"task": "detection", "model": {"name": "yolov1", "backbone": "mobilenet_v2", "pretrained": True, "grid": 7, "img_size": 224}})
    model = build_model(cfg, ["a", "b"], pretrained=False)
    save_checkpoint(tmp_path / "m.pt", {"model": model.state_dict(), "config": to_dict(cfg), "task": "detection", "classes": ["a", "b"]})

    def no_weights(*a, **k):
        raise AssertionError("tried to load ImageNet weights")

    monkeypatch.setattr(weights, "load_pretrained", no_weights)
    rebuilt, _, classes = build_from_checkpoint(tmp_path / "m.pt")
    assert classes == ["a", "b"]
    for (k, a), b in zip(model.state_dict().items(), rebuilt.state_dict().values()):
        assert torch.equal(a, b), k


def test_a_run_config_and_classes_take_the_place_of_the_stored_ones():
    """What evaluate_checkpoint does: the model of the run's config, with the checkpoint's weights."""
    state, model = _state()
    cfg = T.toy_config("/tmp/elsewhere")
    names = [str(c).upper() for c in T.CLASSES]
    rebuilt, got, classes = build_from_checkpoint(state, use_ema=False, cfg=cfg, classes=names)
    assert got is cfg and classes == names and not rebuilt.training
    assert torch.equal(rebuilt.fc.weight, model.fc.weight)
