"""Engine overhead: a training step through :class:`visionkit.engine.trainer.Trainer` against
the same model, data loader and optimizer stepped by a bare PyTorch loop.

    python tools/bench_engine.py [--device cpu] [--steps 30] [--runs 7] [--batch 16] [--size 64] [--model resnet18|tiny]

Both sides iterate the same in-memory data set through the same DataLoader settings and run
torchvision's ResNet-18 with SGD (momentum 0.9). The engine side times only its epoch loop
(``Trainer._epoch``: batch moves, autocast, loss summing, NaN flagging, scheduler, loss
accumulation for logging, progress bookkeeping), not its one-off setup or checkpoint writes.
Runs alternate bare/engine to share machine noise; the reported ratio is the median of the
per-pair ratios engine_time / bare_time. On the CPU the clock is this process's CPU time
(``time.process_time``), which other jobs on a shared machine disturb far less than wall time;
use ``--threads 1`` with it. On CUDA it is wall time between synchronisations.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

_clock = time.perf_counter
import torch.nn.functional as F
import torchvision
from torch.utils.data import DataLoader, Dataset

from visionkit.models.common import stack_labels


class Images(Dataset):
    def __init__(self, n: int, size: int):
        g = torch.Generator().manual_seed(0)
        self.x = torch.rand(n, 3, size, size, generator=g)
        self.y = torch.randint(0, 10, (n,), generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], {"label": int(self.y[i])}


class Classifier(torch.nn.Module):
    """ResNet-18 under the engine's contract: losses in training, logits in evaluation."""

    task = "classification"

    def __init__(self, arch: str = "resnet18"):
        super().__init__()
        if arch == "resnet18":
            self.net = torchvision.models.resnet18(num_classes=10)
        else:  # "tiny": almost no compute, so the time is the per-step overhead itself
            self.net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=4), torch.nn.Flatten(1), torch.nn.LazyLinear(10))

    def forward(self, images, targets=None):
        logits = self.net(images)
        if not self.training:
            return [{"logits": z} for z in logits]
        return {"cls": F.cross_entropy(logits, stack_labels(targets, logits.device))}


def bare_epoch(model, loader, device, lr: float) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    model.train()
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = _clock()
    for images, targets in loader:
        images, labels = images.to(device, non_blocking=True), stack_labels(targets, device)
        loss = F.cross_entropy(model.net(images), labels)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return _clock() - t0


def engine_epoch(trainer) -> float:
    trainer.step = trainer.epoch = trainer.epoch_batch = 0
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    t0 = _clock()
    trainer._epoch(trainer.cfg.train.log_every)
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return _clock() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    ap.add_argument("--model", default="resnet18", choices=["resnet18", "tiny"])
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    global _clock
    _clock = time.process_time if args.device == "cpu" else time.perf_counter

    from visionkit.config import build_config
    from visionkit.data.collate import collate
    from visionkit.engine.trainer import Trainer

    data = Images(args.steps * args.batch, args.size)
    cfg = build_config({
        "name": "bench", "out_dir": tempfile.mkdtemp(prefix="bench_engine_"), "quiet": True, "task": "classification",
        "model": {"name": "unused"}, "data": {"batch_size": args.batch, "workers": 0, "val": ""},
        "train": {"epochs": 1, "lr": 0.01, "scheduler": "cosine", "warmup_steps": 5, "device": args.device,
                  "log_every": 20, "eval_every": 0, "plots": False},
    })
    def build():
        m = Classifier(args.model)
        m(torch.zeros(2, 3, args.size, args.size), [{"label": 0}, {"label": 0}])  # materialise lazy layers
        return m

    torch.manual_seed(0)
    trainer = Trainer(cfg, model=build(), train_set=data, classes=[str(i) for i in range(10)])
    device = trainer.device
    bare_model = build().to(device)
    loader = DataLoader(data, batch_size=args.batch, shuffle=True, num_workers=0, collate_fn=collate,
                        pin_memory=device.type == "cuda")

    bare_epoch(bare_model, loader, device, 0.01)  # warm-up (allocator, kernels)
    engine_epoch(trainer)
    ratios, bare_t, eng_t = [], [], []
    for _ in range(args.runs):
        b = bare_epoch(bare_model, loader, device, 0.01)
        e = engine_epoch(trainer)
        bare_t.append(b)
        eng_t.append(e)
        ratios.append(e / b)
    print(f"clock {_clock.__name__}; device {device}, {args.steps} steps/run, batch {args.batch}, {args.size}x{args.size}, {args.model}, {args.runs} runs")
    print(f"bare loop   median {statistics.median(bare_t) / args.steps * 1e3:.2f} ms/step")
    print(f"engine      median {statistics.median(eng_t) / args.steps * 1e3:.2f} ms/step")
    print(f"engine - bare: {(statistics.median(eng_t) - statistics.median(bare_t)) / args.steps * 1e6:.0f} us/step")
    print(f"ratio engine/bare: median {statistics.median(ratios):.4f} (min {min(ratios):.4f}, max {max(ratios):.4f})")


if __name__ == "__main__":
    main()
