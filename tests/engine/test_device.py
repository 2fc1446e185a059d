"""Devices, nested moves, batch splitting, seeding."""

from __future__ import annotations

import random
from collections import namedtuple

import numpy as np
import pytest
import torch

from visionkit.engine import device as device_mod
from visionkit.engine.device import (amp_dtype, cpu_has_bf16, batch_size_of, resolve_device, seed_everything, split_batch,
                                     to_device)
from visionkit.errors import ConfigError, DataError


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="bad device 'gpu'"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            resolve_device("cuda:0")


def test_cpu_amp_is_bf16_only_where_native_and_checked(monkeypatch):
    cpu = torch.device("cpu")
    assert amp_dtype("off", cpu) is None
    with pytest.warns(UserWarning, match="fp16 AMP needs CUDA"):
        assert amp_dtype("fp16", cpu) is None
    monkeypatch.setattr(device_mod, "cpu_has_bf16", lambda: True)
    assert amp_dtype("bf16", cpu) is torch.bfloat16
    monkeypatch.setattr(device_mod, "cpu_has_bf16", lambda: False)
    with pytest.warns(UserWarning, match="no native bfloat16"):
        assert amp_dtype("bf16", cpu) is None
    with pytest.raises(ConfigError, match="train.amp"):
        amp_dtype("fp8", cpu)
    with pytest.raises(ConfigError, match="eval.amp: bad value 'fp8'"):
        amp_dtype("fp8", cpu, "eval.amp")
    assert isinstance(cpu_has_bf16(), bool)


def test_to_device_nested_and_channels_last():
    P = namedtuple("P", "a b")
    batch = (torch.zeros(2, 3, 4, 4), [{"boxes": torch.zeros(1, 4), "path": "x.jpg", "meta": {"s": 1.0}}], P(torch.ones(1), 3))
    out = to_device(batch, torch.device("cpu"), channels_last=True)
    assert out[0].is_contiguous(memory_format=torch.channels_last)
    assert out[1][0]["path"] == "x.jpg" and out[1][0]["meta"] == {"s": 1.0} and isinstance(out[2], P)
    assert torch.equal(out[1][0]["boxes"], batch[1][0]["boxes"])


def test_split_batch_checks_the_batch_contract_and_size():
    imgs = torch.zeros(3, 3, 2, 2)
    targets = [{"label": 0}] * 3
    images, ts = split_batch((imgs, targets))
    assert images is imgs and ts is targets
    assert split_batch([imgs, None])[1] is None
    with pytest.raises(DataError, match="a batch is a pair"):
        split_batch(imgs)  # bare images
    with pytest.raises(DataError, match="a batch is a pair"):
        split_batch({"images": imgs, "targets": targets})
    with pytest.raises(DataError, match="list of per-image dicts, not Tensor"):
        split_batch((imgs, torch.zeros(3, dtype=torch.long)))  # the stacked labels of the old contract
    assert batch_size_of(imgs) == 3 and batch_size_of([imgs[0], imgs[1]]) == 2


def test_seed_everything_is_reproducible():
    seed_everything(5)
    a = (torch.rand(2), np.random.rand(2), random.random())
    seed_everything(5)
    assert torch.equal(torch.rand(2), a[0]) and np.array_equal(np.random.rand(2), a[1]) and random.random() == a[2]
