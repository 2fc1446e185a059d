"""A training process killed with SIGKILL (no chance to clean up) leaves a loadable last.pt, and
the run resumed from it ends on the same weights as a run never interrupted."""

from __future__ import annotations

import os
import signal
import time

import pytest
import torch
import torch.multiprocessing as mp

import engine_toys as T
from visionkit.engine.checkpoint import load_checkpoint
from visionkit.engine.trainer import train

MODEL = {"name": "toy_cnn", "dropout": 0.3}


def _cfg(tmp_path, name, **kw):
    return T.toy_config(tmp_path, model=kw.pop("model", MODEL), name=name, epochs=3, ckpt_every=1, eval_every=0, **kw)


def _run(out_dir: str) -> None:
    torch.set_num_threads(1)
    train(_cfg(out_dir, "run", model={**MODEL, "delay": 0.05}), train_set=T.ToyImages(32))


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume(tmp_path):
    train(_cfg(tmp_path, "ref"), train_set=T.ToyImages(32))  # uninterrupted reference (24 steps)
    proc = mp.get_context("fork").Process(target=_run, args=(str(tmp_path),))
    proc.start()
    last = tmp_path / "run" / "last.pt"
    deadline = time.monotonic() + 120
    while proc.is_alive() and time.monotonic() < deadline:  # wait until a mid-epoch-2 checkpoint exists
        if last.is_file() and load_checkpoint(last)["step"] >= 10:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    assert proc.exitcode == -signal.SIGKILL
    mid = load_checkpoint(last)  # whatever instant the kill hit, the file is whole
    assert 10 <= mid["step"] < 24

    out = train(_cfg(tmp_path, "run", resume="auto"), train_set=T.ToyImages(32))
    assert out["step"] == 24
    ref, got = load_checkpoint(tmp_path / "ref" / "last.pt")["model"], load_checkpoint(last)["model"]
    for k in ref:
        assert torch.allclose(ref[k], got[k], atol=1e-6), k
