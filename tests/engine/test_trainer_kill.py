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

    stale = tmp_path / "run" / ".last.pt.abc123.tmp"  # what a kill during a write leaves behind
    stale.write_bytes(b"half a checkpoint")
    out = train(_cfg(tmp_path, "run", resume="auto"), train_set=T.ToyImages(32))
    assert not stale.exists()
    assert out["step"] == 24
    ref, got = load_checkpoint(tmp_path / "ref" / "last.pt")["model"], load_checkpoint(last)["model"]
    for k in ref:
        assert torch.allclose(ref[k], got[k], atol=1e-6), k


def _log(run_dir):
    """The logged values without the columns that measure time."""
    import json

    drop = {"img_s", "time", "epoch_time"}
    return [{k: v for k, v in json.loads(line).items() if k not in drop}
            for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("after_write", [False, True])
def test_a_kill_around_a_checkpoint_resumes_to_the_uninterrupted_log(tmp_path, monkeypatch, after_write):
    """Whether a kill falls just before or just after a checkpoint lands, the log of the resumed
    run equals the log of a run never interrupted: no row lost, none twice."""
    from visionkit.engine import run_state

    cfg = lambda name, **kw: T.toy_config(tmp_path, model=MODEL, name=name, epochs=3, ckpt_every=5, eval_every=1, **kw)
    train(cfg("ref"), train_set=T.ToyImages(32), val_set=T.ToyImages(8, seed=1))
    real, calls = run_state.save_checkpoint, []

    def dies_on_the_third(path, state):
        calls.append(path)
        if after_write:
            real(path, state)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process dies here
        if not after_write:
            real(path, state)

    monkeypatch.setattr(run_state, "save_checkpoint", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        train(cfg("run"), train_set=T.ToyImages(32), val_set=T.ToyImages(8, seed=1))
    monkeypatch.setattr(run_state, "save_checkpoint", real)
    train(cfg("run", resume="auto"), train_set=T.ToyImages(32), val_set=T.ToyImages(8, seed=1))
    assert _log(tmp_path / "run") == _log(tmp_path / "ref")
