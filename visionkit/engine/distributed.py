"""Multi-process training through ``torchrun`` (DistributedDataParallel).

``torchrun --nproc_per_node N tools/train.py CONFIG`` starts N copies of the same program and
tells each one who it is through environment variables (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``). :func:`init_distributed` reads them and
joins the process group (NCCL between GPUs, Gloo on the CPU). Each rank then trains on its own
shard of every global batch; DDP averages the gradients across ranks during ``backward``, so
every rank takes the same optimizer step. Without those variables everything here is a
single-process no-op, so the same code runs with or without torchrun.

Metrics are combined across ranks with :func:`all_reduce_sum` (counts, confusion matrices) and
:func:`all_gather_object` (lists of predictions for mAP). Only rank 0 writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def is_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def info() -> DistInfo:
    """Rank, world size and local rank of this process (0, 1, 0 when not distributed)."""
    if is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    return DistInfo()


def is_main() -> bool:
    return info().is_main


def init_distributed(device_type: str | None = None) -> DistInfo:
    """Join the process group when launched by torchrun (``WORLD_SIZE`` > 1); else do nothing.

    The backend is NCCL when CUDA is used, Gloo otherwise. Safe to call twice.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or is_initialized():
        return info()
    if device_type is None:
        device_type = "cuda" if torch.cuda.is_available() else "cpu"
    backend = "nccl" if device_type == "cuda" else "gloo"
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend, init_method="env://")
    return info()


def cleanup() -> None:
    if is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if is_initialized():
        dist.barrier()


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum ``t`` over all ranks (in place, and returned). A no-op in a single process."""
    if is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def all_gather_object(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order (``[obj]`` in a single process)."""
    if not (is_initialized() and dist.get_world_size() > 1):
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def gather_strided(items: list) -> list:
    """Every rank's ``items`` merged back into data-set order, for shards taken with a stride
    (rank ``r`` of ``W`` holds items ``r, r+W, r+2W, ...``, as ``build.ShardSampler`` deals
    them). The order matters: VOC AP breaks score ties by submission order."""
    parts = all_gather_object(items)
    out = []
    for k in range(max((len(p) for p in parts), default=0)):
        out.extend(p[k] for p in parts if k < len(p))
    return out


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank."""
    if not (is_initialized() and dist.get_world_size() > 1):
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def average_gradients(params) -> None:
    """Average ``.grad`` of ``params`` over ranks. DDP does this inside ``backward``; this is
    for models trained through the ``train_step`` hook (e.g. a GAN), which are not DDP-wrapped."""
    if not (is_initialized() and dist.get_world_size() > 1):
        return
    world = dist.get_world_size()
    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad.div_(world)


def broadcast_module(module: torch.nn.Module, src: int = 0) -> None:
    """Copy rank ``src``'s parameters and buffers into every rank's ``module`` (what DDP does
    when it wraps a model; needed for models trained through the ``train_step`` hook)."""
    if not (is_initialized() and dist.get_world_size() > 1):
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=src)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The bare model inside a DDP (or ``torch.compile``) wrapper."""
    while True:
        if isinstance(model, torch.nn.parallel.DistributedDataParallel):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model
