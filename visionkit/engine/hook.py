"""The trainer's hooks: the ``train_step`` hook, and the epoch hooks that do a model's I/O.

**``train_step``**: how a model with several optimizers (the GAN) trains in the one
trainer without a second training loop.

A model opts in by defining both methods::

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]: ...

    def train_step(self, batch, optimizers, ctx) -> dict[str, float | Tensor]:
        with ctx.autocast():
            loss_d = ...
        ctx.backward(loss_d)
        ctx.step(opt_d)          # (average over ranks), unscale, clip, step, zero_grad
        ...
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach()}

Before each call the trainer zeroes every optimizer's gradients and moves ``batch`` to the
device; after it, it updates the AMP scaler, steps one LR schedule per optimizer, updates the
EMA and logs the returned values (tensors are summed on the device, without a sync). Hook
models are not wrapped in DDP: the trainer broadcasts rank 0's weights once, and
:meth:`StepContext.step` averages each optimizer's gradients across ranks.

**Epoch hooks**: objects with ``on_epoch_end(trainer)``, called on rank 0 after each epoch's
evaluation and before ``last.pt`` is written. Models compute and return tensors; the hooks
write files. :func:`epoch_hooks` picks the ones a model asks for by what it defines:

* :class:`SampleGrid` for a model with ``fixed_samples() -> Tensor[N, C, H, W]`` in [0, 1]
  (DCGAN's 64 fixed noise vectors): ``run_dir/samples/epoch_NNN.png``.
* :class:`~.not_learning.NotLearning` for a detector: one warning, naming the likely cause, when
  its validation mAP stays 0.

Feature caches for frozen sub-networks are the engine's too (:mod:`.feature_cache`).
"""

from __future__ import annotations

import torch

from ..viz import save_grid
from . import distributed as D
from .device import autocast
from .not_learning import NotLearning


class StepContext:
    """What a ``train_step`` hook needs from the trainer: autocast, scaled backward, and an
    optimizer step with gradient clipping and (under torchrun) gradient averaging."""

    def __init__(self, trainer):
        self._t = trainer
        self.device = trainer.device
        self.global_step = trainer.step  # optimizer steps done so far
        self.epoch = trainer.epoch

    def autocast(self):
        return autocast(self.device, self._t.amp)

    def backward(self, loss: torch.Tensor) -> None:
        self._t.scaler.scale(loss).backward()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        params = [p for g in optimizer.param_groups for p in g["params"]]
        D.average_gradients(params)
        self._t._clip_and_step(optimizer, params)
        optimizer.zero_grad(set_to_none=True)


class SampleGrid:
    """Writes ``run_dir/samples/epoch_NNN.png`` (NNN = epochs done) from the model's
    ``fixed_samples()`` after every epoch: the same inputs each time, so the grids show how
    the model learns."""

    @staticmethod
    def applies(model) -> bool:
        return callable(getattr(model, "fixed_samples", None))

    def on_epoch_end(self, trainer) -> None:
        path = trainer.run_dir / "samples" / f"epoch_{trainer.epoch:03d}.png"
        save_grid(trainer.net.fixed_samples(), path)


def epoch_hooks(model) -> list:
    """The epoch hooks ``model`` asks for (see the module docstring)."""
    return [hook() for hook in (SampleGrid, NotLearning) if hook.applies(model)]
