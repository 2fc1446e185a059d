"""Two CPU processes (torchrun, gloo) × batch 2 take the same steps as one process × batch 4,
and the evaluation gathered over ranks (15 images, sharded 8 + 7 without padding) matches."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import engine_toys as T
from visionkit.engine import distributed as D
from visionkit.engine.checkpoint import load_checkpoint
from visionkit.engine.trainer import train

HERE = Path(__file__).parent


def test_helpers_are_no_ops_in_one_process():
    assert D.info() == D.DistInfo(0, 1, 0) and D.is_main()
    t = torch.ones(2)
    assert D.all_reduce_sum(t) is t and torch.equal(t, torch.ones(2))
    assert D.all_gather_object({"a": 1}) == [{"a": 1}] and D.broadcast_object(3) == 3
    net = torch.nn.Linear(1, 1)
    assert D.unwrap(net) is net


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_gloo_ranks_match_one_process(tmp_path):
    # the two ranks are started as torchrun would start them (its environment variables), without
    # the launcher process itself: one torch import fewer on a small CI machine
    base = dict(os.environ, OMP_NUM_THREADS="1", WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()),
                PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    procs = [subprocess.Popen([sys.executable, str(HERE / "ddp_worker.py"), str(tmp_path / "two")],
                              env=dict(base, RANK=str(r), LOCAL_RANK=str(r)), stderr=subprocess.PIPE, text=True)
             for r in (0, 1)]
    single = T.toy_config(tmp_path / "one", name="ddp", epochs=2, eval_every=2)
    torch.manual_seed(0)
    ref = train(single, model=T.toy_cnn(), train_set=T.ToyImages(32), val_set=T.ToyImages(15, seed=1))

    try:
        errors = [p.communicate(timeout=240)[1] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0, 0], "\n".join(e[-2000:] for e in errors)

    two = load_checkpoint(tmp_path / "two" / "ddp" / "last.pt")
    one = load_checkpoint(tmp_path / "one" / "ddp" / "last.pt")
    assert two["step"] == one["step"] == 16
    for k, v in one["model"].items():
        assert torch.allclose(two["model"][k], v, atol=1e-5), k
    ranks = [json.loads((tmp_path / "two" / f"summary_rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0] == ranks[1] and ranks[0]["accuracy"] == pytest.approx(ref["metrics"]["accuracy"])
    assert isinstance(two["rng"], list) and len(two["rng"]) == 2  # each rank's generators
    assert not (tmp_path / "two" / "ddp" / "tb").exists() or len(list((tmp_path / "two" / "ddp" / "tb").iterdir())) == 1
