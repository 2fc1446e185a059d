"""Checkpoints: round trip, RNG states, safe loading (a malicious pickle is refused), clear
errors for missing/corrupt/foreign/wrong-task files."""

from __future__ import annotations

import os
import pickle
import random
import zipfile

import numpy as np
import pytest
import torch

import engine_toys as T
from visionkit import __version__
from visionkit.config import to_dict
from visionkit.engine.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from visionkit.errors import WeightsError


def _state(task="classification", **extra):
    cfg = T.toy_config("/tmp/unused")
    model = T.toy_cnn()
    return {"model": model.state_dict(), "config": to_dict(cfg), "task": task, "classes": T.CLASSES, "epoch": 1,
            "step": 7, "rng": rng_state(), **extra}, model


def test_round_trip_with_weights_only(tmp_path):
    state, model = _state()
    save_checkpoint(tmp_path / "c.pt", state)
    ckpt = load_checkpoint(tmp_path / "c.pt")
    assert ckpt["visionkit_version"] == __version__ and ckpt["step"] == 7 and ckpt["classes"] == T.CLASSES
    for k, v in model.state_dict().items():
        assert torch.equal(ckpt["model"][k], v)
    assert not list(tmp_path.glob(".c.pt.*"))  # no temporary left behind


def test_rng_state_restores_every_generator(tmp_path):
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    save_checkpoint(tmp_path / "r.pt", _state()[0] | {"rng": rng_state()})
    expected = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)])
    torch.manual_seed(99), np.random.seed(99), random.seed(99)
    set_rng_state(load_checkpoint(tmp_path / "r.pt")["rng"])
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(3), expected[1])
    assert [random.random() for _ in range(3)] == expected[2]


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/visionkit_pwned",))


def test_malicious_pickle_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    state, _ = _state()
    torch.save(state | {"payload": _Evil()}, path)  # a stranger's file with a code-running object
    marker = "/tmp/visionkit_pwned"
    if os.path.exists(marker):
        os.remove(marker)
    with pytest.raises(WeightsError, match=r"evil\.pt: refused to load.*posix.system.*could run code"):
        load_checkpoint(path)
    assert not os.path.exists(marker)
    # the same with a bare pickle (not a torch zip archive)
    path.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(WeightsError, match="evil.pt"):
        load_checkpoint(path)
    assert not os.path.exists(marker)


def test_clear_errors(tmp_path):
    with pytest.raises(WeightsError, match="nope.pt: no such checkpoint file"):
        load_checkpoint(tmp_path / "nope.pt")
    state, _ = _state()
    save_checkpoint(tmp_path / "c.pt", state)
    data = (tmp_path / "c.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])  # a download cut short
    with pytest.raises(WeightsError, match="cut.pt: corrupt or truncated"):
        load_checkpoint(tmp_path / "cut.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(WeightsError, match="text.pt"):
        load_checkpoint(tmp_path / "text.pt")
    torch.save({"weight": torch.zeros(2)}, tmp_path / "bare.pt")  # a plain state dict
    with pytest.raises(WeightsError, match="bare.pt: not a visionkit checkpoint"):
        load_checkpoint(tmp_path / "bare.pt")
    with pytest.raises(WeightsError, match="trained for task 'classification', not 'detection'"):
        load_checkpoint(tmp_path / "c.pt", task="detection")
    assert zipfile.is_zipfile(tmp_path / "c.pt")
