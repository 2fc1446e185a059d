"""SIGINT/SIGTERM stop a run at the next step boundary: last.pt is saved, the resume command
printed, the resumed run ends on the uninterrupted run's weights, and the handlers that were
there before ``fit()`` are back afterwards."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import torch
import torch.multiprocessing as mp

import engine_toys as T
from tests.helpers.ranks import run_ranks
from visionkit.engine.checkpoint import load_checkpoint
from visionkit.engine.signals import StopSignals, resume_command
from visionkit.engine.trainer import train
from visionkit.registry import MODELS


class SignalCNN(T.ToyCNN):
    """The toy CNN that sends its own process ``signum`` during training call ``at``; with
    ``once``, only the first model of the process does (a resumed run then goes on)."""

    fired = False

    def __init__(self, at: int = 0, signum: int = int(signal.SIGINT), once: bool = False, **kw):
        super().__init__(**kw)
        self.at, self.signum, self.once = at, signum, once

    def forward(self, images, targets=None):
        out = super().forward(images, targets)
        if self.training and self.calls == self.at and not (self.once and SignalCNN.fired):
            SignalCNN.fired = True
            signal.raise_signal(self.signum)
        return out


def toy_signal_cnn(at: int = 0, signum: int = 2, once: bool = False, dropout: float = 0.0, delay: float = 0.0,
                   in_ch: int = 3) -> SignalCNN:
    """toy_cnn that signals itself at training call ``at``."""
    return SignalCNN(at, signum, once, dropout=dropout, delay=delay, in_ch=in_ch)


MODELS.register("toy_signal_cnn", task="classification")(toy_signal_cnn)


def _cfg(tmp_path, name, model=None, **kw):
    model = {"name": "toy_signal_cnn", "dropout": 0.3, **(model or {})}
    return T.toy_config(tmp_path, model=model, name=name, epochs=3, eval_every=1, **kw)


def _log(run_dir):
    drop = {"img_s", "time", "epoch_time"}
    return [{k: v for k, v in json.loads(line).items() if k not in drop}
            for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _data():
    return {"train_set": T.ToyImages(32), "val_set": T.ToyImages(8, seed=1)}


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_saves_last_pt_that_resumes_to_the_uninterrupted_weights(tmp_path, capsys, signum, code):
    train(_cfg(tmp_path, "ref"), **_data())  # 24 steps, 8 per epoch
    mine = lambda *a: None  # noqa: E731 - a notebook's own handler
    before = signal.signal(signum, mine)
    try:
        out = train(_cfg(tmp_path, "run", model={"at": 11, "signum": int(signum)}), **_data())
        assert signal.getsignal(signum) is mine  # restored after fit()
    finally:
        signal.signal(signum, before)
    assert out["stopped"] == signal.Signals(signum).name and out["exit_code"] == code
    assert out["step"] == 11
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    assert (last["step"], last["epoch"], last["epoch_batch"]) == (11, 1, 3)  # mid-epoch 2
    err = capsys.readouterr().err
    cmd = resume_command(tmp_path / "run")
    assert f"resume with: {cmd}" in err and cmd.endswith(f"--resume {tmp_path / 'run' / 'last.pt'}")

    train(_cfg(tmp_path, "run", resume="auto"), **_data())
    ref, got = load_checkpoint(tmp_path / "ref" / "last.pt")["model"], load_checkpoint(tmp_path / "run" / "last.pt")["model"]
    for k in ref:
        assert torch.equal(ref[k], got[k]), k
    assert _log(tmp_path / "run") == _log(tmp_path / "ref")


def test_a_resume_says_where_it_resumed_even_without_a_terminal(tmp_path, capsys):
    import dataclasses

    train(_cfg(tmp_path, "run", model={"at": 11}), **_data())
    capsys.readouterr()
    cfg = dataclasses.replace(_cfg(tmp_path, "run", resume="auto"), quiet=False)
    train(cfg, **_data())
    err = capsys.readouterr().err
    assert f"resumed from {tmp_path / 'run' / 'last.pt'} at step 11/24 (epoch 2/3, batch 3)" in err


def test_a_second_ctrl_c_aborts_at_once(monkeypatch):
    stop = StopSignals(announce=False)
    stop.handle(signal.SIGINT)
    assert stop.requested and stop.name == "SIGINT"
    stop.handle(signal.SIGINT)  # the same Ctrl-C passed on again (torchrun's launcher): still a clean stop
    stop.handle(signal.SIGTERM)
    monkeypatch.setattr(StopSignals, "REPEAT_S", -1.0)
    with pytest.raises(KeyboardInterrupt):
        stop.handle(signal.SIGINT)


def test_resume_command_under_torchrun(tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    run = tmp_path / "my run"
    assert resume_command(run) == (f"torchrun --nproc_per_node 4 -m visionkit train '{run}/config.yaml' "
                                   f"--resume '{run}/last.pt'")


def _child(out_dir: str) -> None:
    torch.set_num_threads(1)
    out = train(T.toy_config(out_dir, model={"name": "toy_cnn", "delay": 0.05}, name="run", epochs=3, ckpt_every=1,
                             eval_every=0), train_set=T.ToyImages(32))
    os._exit(out["exit_code"])


def test_sigterm_from_outside_stops_a_training_process_cleanly(tmp_path):
    proc = mp.get_context("fork").Process(target=_child, args=(str(tmp_path),))
    proc.start()
    last = tmp_path / "run" / "last.pt"
    deadline = time.monotonic() + 120
    while proc.is_alive() and time.monotonic() < deadline:
        if last.is_file() and load_checkpoint(last)["step"] >= 4:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGTERM)
    proc.join(60)
    assert proc.exitcode == 143  # the run returned (exit code of a SIGTERM stop), it was not killed
    step = load_checkpoint(last)["step"]
    assert 4 <= step < 24
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == step  # the logs were flushed up to the saved step


def _rank(rank: int, port: int, out_dir: str) -> None:
    """One of two gloo ranks (forked, with torchrun's variables); only rank 1 gets the signal."""
    os.environ.update(WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    cfg = T.toy_config(out_dir, name="ddp", epochs=3, eval_every=0, log_every=3)
    cfg.data.batch_size = 2
    torch.manual_seed(0)
    model = SignalCNN(at=5 if rank == 1 else 0)
    out = train(cfg, model=model, train_set=T.ToyImages(32))
    with open(f"{out_dir}/rank{rank}.json", "w") as f:
        json.dump([out["step"], out["stopped"]], f)


@pytest.mark.slow
def test_under_torchrun_every_rank_stops_at_the_same_step(tmp_path):
    assert run_ranks(_rank, str(tmp_path)) == [0, 0]
    # rank 1 saw the signal in step 5; the ranks agree at the next log row (step 6) and stop there
    assert [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)] == [[6, "SIGINT"], [6, "SIGINT"]]
    assert load_checkpoint(tmp_path / "ddp" / "last.pt")["step"] == 6


def test_the_printed_command_resumes_the_run_from_the_cli(tmp_path, capsys):
    """``visionkit train`` exits 130 on SIGINT and prints one command that resumes the run to
    the weights of a run never interrupted."""
    import shlex

    import yaml

    from visionkit.cli import main

    T.write_idx(tmp_path / "idx", "train", 24)
    T.write_idx(tmp_path / "idx", "t10k", 12, seed=1)
    cfg = {"name": "cli", "out_dir": str(tmp_path / "runs"), "quiet": True,
           "model": {"name": "toy_signal_cnn", "in_ch": 1, "at": 8, "once": True, "dropout": 0.3},
           "data": {"format": "idx", "root": str(tmp_path / "idx"), "val": "test", "classes": ["dark", "light"],
                    "img_size": 8, "resize": "stretch", "batch_size": 4, "workers": 0,
                    "options": {"task": "classification"}, "augment": {"hflip": 0.5}},
           "train": {"epochs": 3, "lr": 0.5, "momentum": 0.0, "scheduler": "constant", "device": "cpu", "plots": False}}
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(cfg))
    SignalCNN.fired = True  # the reference run is not interrupted
    assert main(["train", str(tmp_path / "toy.yaml"), "name=ref"]) == 0
    SignalCNN.fired = False
    capsys.readouterr()
    assert main(["train", str(tmp_path / "toy.yaml")]) == 130
    lines = [x for x in capsys.readouterr().err.splitlines() if "resume with: " in x]
    assert len(lines) == 1
    argv = shlex.split(lines[0].split("resume with: ")[1])
    assert argv[:2] == ["visionkit", "train"] and load_checkpoint(tmp_path / "runs" / "cli" / "last.pt")["step"] == 8
    assert main(argv[1:]) == 0
    ref = load_checkpoint(tmp_path / "runs" / "ref" / "last.pt")
    got = load_checkpoint(tmp_path / "runs" / "cli" / "last.pt")
    assert got["step"] == ref["step"] == 18
    for k in ref["model"]:
        assert torch.equal(ref["model"][k], got["model"][k]), k
