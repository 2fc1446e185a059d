"""Two CPU processes (gloo, torchrun's environment variables) × batch 2 take the same steps as
one process × batch 4, and the evaluation gathered over ranks (15 images, sharded 8 + 7 without
padding) matches. ``ddp_worker.py`` runs the same under a real ``torchrun`` by hand:
``torchrun --nproc_per_node 2 tests/engine/ddp_worker.py OUT``."""

from __future__ import annotations

import json
import os

import pytest
import torch

import engine_toys as T
from tests.helpers.ranks import run_ranks
from visionkit.engine import distributed as D
from visionkit.engine.checkpoint import load_checkpoint
from visionkit.engine.trainer import train


def test_helpers_are_no_ops_in_one_process():
    assert D.info() == D.DistInfo(0, 1, 0) and D.is_main()
    t = torch.ones(2)
    assert D.all_reduce_sum(t) is t and torch.equal(t, torch.ones(2))
    assert D.all_gather_object({"a": 1}) == [{"a": 1}] and D.broadcast_object(3) == 3
    net = torch.nn.Linear(1, 1)
    assert D.unwrap(net) is net


def _rank(rank: int, port: int, out_dir: str) -> None:
    """One rank, started by fork with the variables torchrun would set (fork: torch is already
    imported, so a rank starts in milliseconds instead of seconds)."""
    os.environ.update(WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    cfg = T.toy_config(out_dir, name="ddp", epochs=2, eval_every=2)
    cfg.data.batch_size = 2  # per rank: global batch 4
    torch.manual_seed(0)
    summary = train(cfg, model=T.toy_cnn(), train_set=T.ToyImages(32), val_set=T.ToyImages(15, seed=1))
    with open(f"{out_dir}/summary_rank{rank}.json", "w") as f:
        json.dump(summary["metrics"], f)


@pytest.mark.slow
def test_two_gloo_ranks_match_one_process(tmp_path):
    # the reference first: it also imports what the ranks need (the first optimizer imports
    # torch._dynamo, seconds), so the forked ranks inherit it
    single = T.toy_config(tmp_path / "one", name="ddp", epochs=2, eval_every=2)
    single.data.batch_size = 4
    torch.manual_seed(0)
    ref = train(single, model=T.toy_cnn(), train_set=T.ToyImages(32), val_set=T.ToyImages(15, seed=1))

    assert run_ranks(_rank, str(tmp_path / "two")) == [0, 0]

    two = load_checkpoint(tmp_path / "two" / "ddp" / "last.pt")
    one = load_checkpoint(tmp_path / "one" / "ddp" / "last.pt")
    assert two["step"] == one["step"] == 16
    for k, v in one["model"].items():
        assert torch.allclose(two["model"][k], v, atol=1e-5), k
    ranks = [json.loads((tmp_path / "two" / f"summary_rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0] == ranks[1] and ranks[0]["accuracy"] == pytest.approx(ref["metrics"]["accuracy"])
    assert isinstance(two["rng"], list) and len(two["rng"]) == 2  # each rank's generators
    assert len(list((tmp_path / "two" / "ddp" / "tb").iterdir())) == 1  # only rank 0 logs
    losses = [[json.loads(x).get("loss") for x in (tmp_path / d / "ddp" / "metrics.jsonl").read_text().splitlines()]
              for d in ("one", "two")]
    assert losses[0] == pytest.approx(losses[1], abs=1e-5)  # logged losses are averaged over ranks


def _gan_rank(rank: int, port: int, out_dir: str) -> None:
    os.environ.update(WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    cfg = T.toy_config(out_dir, model={"name": "toy_gan"}, name="gan", epochs=1, lr=1e-2, eval_every=0)
    torch.manual_seed(rank)  # different initial weights per rank: the hook path must not rely on DDP
    trainer = __import__("visionkit.engine.trainer", fromlist=["Trainer"]).Trainer(cfg, model=T.toy_gan(), train_set=T.ToyImages(16))
    trainer.fit()
    torch.save(trainer.net.state_dict(), f"{out_dir}/gan_rank{rank}.pt")


def test_train_step_hook_ranks_stay_in_sync(tmp_path):
    """Hook models are not DDP-wrapped: the trainer broadcasts rank 0's weights at the start and
    ``ctx.step`` averages gradients, so the ranks end on identical weights."""
    assert run_ranks(_gan_rank, str(tmp_path), timeout=180) == [0, 0]
    w0, w1 = (torch.load(tmp_path / f"gan_rank{r}.pt", weights_only=True) for r in (0, 1))
    for k in w0:
        assert torch.allclose(w0[k], w1[k], atol=1e-6), k


def _gt_boxes(i: int) -> torch.Tensor:
    xy = torch.rand(2, 2, generator=torch.Generator().manual_seed(100 + i)) * 20
    return torch.cat([xy, xy + 6], 1)


class _Canned(torch.nn.Module):
    """Detection and segmentation predictions looked up by the image's index (its pixel value):
    the GT boxes shifted by 0-2 pixels plus one false positive; masks off by a rolling shift."""

    def __init__(self, task: str):
        super().__init__()
        self.task = task

    def forward(self, images, **thresholds):  # canned scores, all above eval.conf
        out = []
        for im in images:
            i = int(im[0, 0, 0])
            if self.task == "detection":
                boxes = torch.cat([_gt_boxes(i) + (i % 3), torch.tensor([[30.0, 30, 40, 40]])])
                out.append({"boxes": boxes, "labels": torch.tensor([1, 2, 1]), "scores": torch.tensor([0.9, 0.3 + i / 20, 0.5])})
            else:
                out.append({"masks": (torch.arange(16).view(4, 4) // 4 + i) % 3})
        return out


def _eval_data(task: str) -> list:
    items = []
    for i in range(7):
        target = ({"boxes": _gt_boxes(i), "labels": torch.tensor([1, 2])} if task == "detection"
                  else {"masks": (torch.arange(16).view(4, 4) // 4 + (i % 2)) % 3})
        items.append((torch.full((3, 4, 4), float(i)), target))
    return items


def _evaluate_all() -> dict:
    from visionkit.data.collate import collate
    from visionkit.engine.build import ShardSampler
    from visionkit.engine.evaluator import Evaluator

    out = {}
    for task, classes in (("detection", ["a", "b"]), ("segmentation", ["x", "y", "z"])):
        items = _eval_data(task)
        loader = torch.utils.data.DataLoader(items, batch_size=2, sampler=ShardSampler(len(items), D.info()), collate_fn=collate)
        out[task] = Evaluator(task, classes).evaluate(_Canned(task), loader, torch.device("cpu")).metrics
    return out


def _eval_rank(rank: int, port: int, out_dir: str) -> None:
    os.environ.update(WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    D.init_distributed("cpu")
    metrics = _evaluate_all()
    D.cleanup()
    with open(f"{out_dir}/eval_rank{rank}.json", "w") as f:
        json.dump(metrics, f)


def test_evaluation_gathered_over_ranks_matches_one_process(tmp_path):
    """7 images sharded 4 + 3: detection mAP from all_gather_object'ed predictions and mIoU from
    the all_reduce'd confusion matrix equal the single-process numbers."""
    single = _evaluate_all()
    assert run_ranks(_eval_rank, str(tmp_path), timeout=120) == [0, 0]
    for r in (0, 1):
        got = json.loads((tmp_path / f"eval_rank{r}.json").read_text())
        assert got["detection"] == pytest.approx(single["detection"]) and got["segmentation"] == pytest.approx(single["segmentation"])
    assert 0 < single["detection"]["mAP"] < 1 and 0 < single["segmentation"]["mIoU"] < 1
