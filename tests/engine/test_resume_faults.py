"""Checkpoints that do not fit: resuming a weights-only file or another model's run, and
evaluating or exporting a checkpoint of another shape, are one-line errors that say what differs."""

from __future__ import annotations

import pytest

import engine_toys as T
from visionkit.engine.checkpoint import load_checkpoint, save_checkpoint
from visionkit.engine.restore import build_from_checkpoint
from visionkit.engine.trainer import train
from visionkit.errors import WeightsError


def test_a_weights_only_file_cannot_be_resumed(tmp_path):
    train(T.toy_config(tmp_path, epochs=1), train_set=T.ToyImages(8))
    ckpt = load_checkpoint(tmp_path / "toy" / "last.pt")
    packed = {k: v for k, v in ckpt.items() if k not in ("optimizer", "scheduler", "step", "rng")}
    save_checkpoint(tmp_path / "packed.pt", packed)
    with pytest.raises(WeightsError, match="packed.pt: holds weights only .* cannot be resumed"):
        train(T.toy_config(tmp_path, epochs=2, name="again"), train_set=T.ToyImages(8), resume=str(tmp_path / "packed.pt"))


def test_a_checkpoint_of_another_shape_names_the_difference(tmp_path):
    train(T.toy_config(tmp_path, epochs=1), train_set=T.ToyImages(8))
    wider = T.toy_config(tmp_path, epochs=2, name="wide", model={"name": "toy_cnn", "width": 16})
    with pytest.raises(WeightsError, match=r"last.pt: the checkpoint's weights do not fit this model \(ToyCNN\): size mismatch for "):
        train(wider, train_set=T.ToyImages(8), resume=str(tmp_path / "toy" / "last.pt"))
    ckpt = load_checkpoint(tmp_path / "toy" / "last.pt")
    ckpt["model"] = {k + ".x": v for k, v in ckpt["model"].items()}
    save_checkpoint(tmp_path / "renamed.pt", ckpt)
    with pytest.raises(WeightsError) as e:
        build_from_checkpoint(tmp_path / "renamed.pt")
    assert "renamed.pt" in str(e.value) and "Missing key(s)" in str(e.value) and "\n" not in str(e.value)
