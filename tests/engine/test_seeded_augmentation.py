"""Seeded augmentation: each sample's random transform is drawn from (seed, epoch, index), so two
runs with one seed are identical and a crash-and-resume ends on the weights of an uninterrupted
run, with worker processes too."""

from __future__ import annotations

import pytest
import torch

import engine_toys as T
from visionkit.config import build_config
from visionkit.data.base import SampleKey, sample_seed
from visionkit.engine.checkpoint import load_checkpoint
from visionkit.engine.trainer import train

AUGMENT = {"hflip": 0.5, "vflip": 0.5, "rot90": 0.5, "color_jitter": 0.4, "scale_jitter": [0.7, 1.3]}


def _cfg(tmp_path, name, workers=0, model=None, **train_kw):
    return build_config({
        "name": name, "out_dir": str(tmp_path / "runs"), "quiet": True,
        "model": model or {"name": "toy_cnn", "in_ch": 1},
        "data": {"format": "idx", "root": str(tmp_path / "idx"), "val": "", "classes": ["dark", "light"], "img_size": 8,
                 "resize": "stretch", "batch_size": 4, "workers": workers, "options": {"task": "classification"},
                 "augment": AUGMENT},
        "train": {"epochs": 3, "lr": 0.2, "momentum": 0.0, "scheduler": "constant", "device": "cpu", "plots": False,
                  "eval_every": 0, "ckpt_every": 3, "seed": 7, **train_kw},
    })


def _weights(tmp_path, name):
    return load_checkpoint(tmp_path / "runs" / name / "last.pt")["model"]


def _same(a, b):
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture
def data(tmp_path):
    torch.set_num_threads(1)
    T.write_idx(tmp_path / "idx", "train", 24)
    return tmp_path


def test_sample_seed_depends_on_seed_epoch_and_index_only():
    assert sample_seed(0, 1, 2) == sample_seed(0, 1, 2)
    assert len({sample_seed(0, 1, 2), sample_seed(1, 1, 2), sample_seed(0, 2, 2), sample_seed(0, 1, 3)}) == 4


def test_a_sample_key_fixes_the_augmentation(data):
    from visionkit.engine.build import build_dataset

    ds = build_dataset(_cfg(data, "x"), "train", train=True)
    draws = [ds[SampleKey(3, s)][0] for s in (11, 11, 12, 12, 13)]
    assert torch.equal(draws[0], draws[1]) and torch.equal(draws[2], draws[3])
    assert not all(torch.equal(draws[0], d) for d in draws[2:])  # other seeds, other draws


@pytest.mark.slow
def test_reruns_and_worker_processes_train_the_same_weights(data):
    train(_cfg(data, "a"))
    train(_cfg(data, "b"))
    train(_cfg(data, "c", workers=2))
    _same(_weights(data, "a"), _weights(data, "b"))
    _same(_weights(data, "a"), _weights(data, "c"))


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, 2])
def test_resume_with_augmentation_is_exact(data, workers):
    train(_cfg(data, "ref", workers))
    with pytest.raises(RuntimeError, match="injected crash"):
        train(_cfg(data, "run", workers, model={"name": "toy_cnn", "in_ch": 1, "fail_at": 10}))
    train(_cfg(data, "run", workers, resume="auto"))
    _same(_weights(data, "ref"), _weights(data, "run"))
