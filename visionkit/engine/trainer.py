"""The one trainer shared by every task.

A model plugs in through a small contract (docs/ARCHITECTURE.md):

* **plain models**: ``model(images, targets) -> dict[str, Tensor]`` of losses in train mode;
  the trainer sums them (or calls ``model.loss_total(losses)``), back-propagates and steps one
  optimizer built from ``cfg.train``;
* **models with several optimizers** (the GAN) implement
  ``configure_optimizers(train_cfg) -> list[Optimizer]`` and
  ``train_step(batch, optimizers, ctx) -> dict[str, float | Tensor]``, calling ``ctx.backward(loss)``
  and ``ctx.step(optimizer)`` (:mod:`visionkit.engine.hook`: AMP scaling, clipping and
  cross-rank gradient averaging are done there).

Every loader batch is ``(images, targets)`` with ``targets`` a list of per-image dicts, for
every task (``data/collate.py``); models stack their own dense targets. Models compute, the
engine does the I/O and caching around them: epoch hooks (``hook.epoch_hooks``, e.g. the GAN's
sample grids) write files on rank 0 after each epoch, and frozen feature extractors get a
feature cache (``feature_cache.attach_feature_caches``).

Everything else is the trainer's, identical for every task: devices and AMP, DDP under
torchrun, gradient accumulation and clipping, schedules and EMA, seeded data order,
checkpoints with exact mid-epoch resume, logs, plots, evaluation and ``best.pt``.

One *step* is one optimizer update (``grad_accum`` micro-batches). The losses are summed on
the device and read back to the host (which waits for the GPU) only every ``train.log_every``
steps, at each epoch's end and before every checkpoint; a NaN or inf in any step makes those sums non-finite, so a
diverged model is caught there and never saved.
"""

from __future__ import annotations

import dataclasses
import math
import signal
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch

from ..config import Config, save_config
from ..errors import UserError
from ..registry import model_task
from . import distributed as D
from .best import BestTracker
from .build import build_dataset, build_model, fit_model_to_data, make_train_loader, steps_per_epoch
from .data_report import report_data_issues
from .device import amp_dtype, autocast, batch_size_of, resolve_device, seed_everything, split_batch, to_device
from .evaluator import EvalResult, default_metric, metric_mode
from .feature_cache import attach_feature_caches
from .hook import StepContext, epoch_hooks
from .logging import EpochMeter, RunLogger, progress, progress_mode
from .optim import build_ema, build_optimizer, build_scheduler
from .restore import attach_fid_extractor
from .run_state import RunState
from .rundir import fresh_run_name, remove_stale_temps
from .signals import EXIT_CODES, StopSignals, resume_command
from .validation import Validation


class TrainingError(UserError):
    """Training cannot go on (e.g. the loss became NaN); shown as one line by the CLI."""


class Trainer(RunState, Validation):
    """``Trainer(cfg).fit() -> summary``. ``model``, ``train_set``, ``val_set`` and ``classes``
    may be given directly (tests, notebooks); otherwise they are built from ``cfg``. ``hooks``
    adds epoch hooks (objects with ``on_epoch_end(trainer)``) to those the model asks for."""

    @property
    def best(self) -> float | None:
        """The metric of the weights in best.pt (kept by the rule in engine/best.py)."""
        return self.best_rule.value

    def __init__(self, cfg: Config, model: torch.nn.Module | None = None, train_set=None, val_set=None,
                 classes: list[str] | None = None, resume: str | None = None, hooks=()):
        self.cfg, tc = cfg, cfg.train
        self.device = resolve_device(tc.device, None)
        self.dist = D.init_distributed(self.device.type)
        if self.device.type == "cuda" and tc.device in ("auto", "cuda"):
            self.device = torch.device("cuda", self.dist.local_rank)
        self.is_main = self.dist.is_main
        seed_everything(tc.seed + self.dist.rank, tc.deterministic)
        self.amp = amp_dtype(tc.amp, self.device)
        self.eval_amp = amp_dtype(cfg.eval.amp, self.device, "eval.amp")  # its own setting: scores stay float32 by default
        self.show = progress_mode(tc.progress, cfg.quiet) if self.is_main else "off"  # bar | lines | off

        # data
        self.train_set = train_set if train_set is not None else build_dataset(cfg, "train", True)
        if val_set is None and cfg.data.val:
            val_set = build_dataset(cfg, "val", False)
        self.val_set = val_set or None
        self.classes = list(classes or cfg.data.classes or getattr(self.train_set, "classes", None) or [])
        self.task = model_task(cfg)

        # model
        if model is None:  # `auto` model values fitted to the training boxes, written into the saved config
            cfg, _ = fit_model_to_data(cfg, self.train_set, bool(cfg.quiet) or not self.is_main)
            self.cfg = cfg
            model = build_model(cfg, self.classes)
        attach_fid_extractor(model, cfg)
        for name, p in model.named_parameters():
            if any(name.startswith(prefix) for prefix in tc.freeze):
                p.requires_grad_(False)
        model.to(self.device)
        if tc.channels_last:
            model.to(memory_format=torch.channels_last)
        self.hook = callable(getattr(model, "train_step", None)) and callable(getattr(model, "configure_optimizers", None))
        self.model = model
        if self.hook:
            D.broadcast_module(model)  # start every rank from rank 0's weights, as DDP would
            self.optimizers = list(model.configure_optimizers(tc))
        else:
            self.optimizers = [build_optimizer(model, tc)]
            if self.dist.enabled:
                ids = [self.device.index] if self.device.type == "cuda" else None
                self.model = torch.nn.parallel.DistributedDataParallel(
                    model, device_ids=ids, find_unused_parameters=bool(getattr(model, "find_unused_parameters", False)))
        self.net = model  # the bare module (checkpoints, evaluation, hooks)

        self.loader, self.sampler = make_train_loader(self.train_set, cfg.data.batch_size, self.dist, tc.seed, cfg.data.workers)
        if len(self.loader) == 0:
            raise TrainingError(f"data: the training split {cfg.data.train!r} is empty")
        self.accum = 1 if self.hook else max(tc.grad_accum, 1)
        self.steps_per_epoch = steps_per_epoch(len(self.loader), self.accum)
        self.total_steps = tc.max_steps if tc.max_steps > 0 else tc.epochs * self.steps_per_epoch
        self.epochs = -(-self.total_steps // self.steps_per_epoch)
        self.schedulers = [build_scheduler(o, tc, self.total_steps, self.steps_per_epoch) for o in self.optimizers]
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp is torch.float16)
        self.ema = build_ema(self.net, tc.ema)

        self.metric = tc.metric or default_metric(self.task, cfg.eval.metric)
        self.mode = metric_mode(self.metric)
        self.best_rule = BestTracker(self.metric, self.mode, len(self.val_set) if self.val_set is not None else 0)
        self.conf: float | None = None  # the F1-optimal score threshold of the latest evaluation (ckpt["conf"])
        self.last_metrics: dict[str, float] = {}
        self.step, self.epoch, self.epoch_batch = 0, 0, 0
        self._sums: dict[str, Any] = {}  # running loss sums of the next log row (device tensors)
        self._steps_since = 0
        self._last_eval: EvalResult | None = None
        self._plotted: EvalResult | None = None  # the evaluation whose PR/confusion plots are on disk
        total = getattr(model, "loss_total", None)
        self._loss_total = total if callable(total) else None
        self._move = not (self.device.type == "cpu" and not tc.channels_last)  # CPU batches are already home
        self._params = [p for g in self.optimizers[0].param_groups for p in g["params"]]
        # run time: seconds since the run started, carried across resumes by the checkpoint
        self._time0, self._epoch_t0, self._clock0 = 0.0, 0.0, time.perf_counter()
        self._stop: StopSignals | None = None
        self._stopping = 0  # the signal number of an agreed stop (every rank the same, see _mean_sums)

        resume = resume if resume is not None else tc.resume
        if not resume and not tc.exist_ok:  # a new run never writes into another run's folder
            name = D.broadcast_object(fresh_run_name(cfg.out_dir, cfg.name) if self.is_main else None)
            if name != cfg.name:
                if self.is_main:
                    print(f"{cfg.run_dir} holds a run: this one goes to {Path(cfg.out_dir) / name} "
                          "(train.exist_ok=true or --exist-ok reuses the folder)", file=sys.stderr)
                cfg = self.cfg = dataclasses.replace(cfg, name=name)
        self.run_dir = cfg.run_dir
        path = self._resume_path(resume)
        if path is not None:
            self._load_resume(path)
        # after the weights are final: cached features are computed with them
        self.feature_caches = attach_feature_caches(self.net)
        if self.ema is not None:
            self.feature_caches += attach_feature_caches(self.ema.module)
        self.hooks = epoch_hooks(self.net) + list(hooks)
        if self.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(self.run_dir)
            save_config(cfg, self.run_dir / "config.yaml")
            report_data_issues({"train": self.train_set, "val": self.val_set}, self.run_dir)
        rows = RunLogger.read_rows(self.run_dir, self.step) if path is not None and self.is_main else []
        self.logger = RunLogger(self.run_dir, enabled=self.is_main, rows=rows)

    # ------------------------------------------------------------------------- resume

    # ------------------------------------------------------------------------ stepping

    def _mean_sums(self) -> dict[str, float]:
        """The running loss sums averaged over ranks: one ``all_reduce`` and one host sync.
        Under torchrun a stop flag (a signal seen by any rank) rides in the same reduction, so
        the ranks agree on stopping at the same step without a collective of its own."""
        if not self._sums:
            return {}
        seen = self._stop.signum if self._stop is not None else None
        flags = ([torch.tensor(float(seen == s), device=self.device) for s in (signal.SIGINT, signal.SIGTERM)]
                 if self.dist.enabled else [])
        vals = torch.stack([v.float().reshape(()) if isinstance(v, torch.Tensor) else torch.tensor(float(v))
                            for v in self._sums.values()]).to(self.device)
        vals = torch.cat([vals, torch.stack(flags)]) if flags else vals
        D.all_reduce_sum(vals)
        vals = vals.tolist()
        if flags:  # the ranks that saw SIGINT, SIGTERM: SIGINT wins
            term, sigint = vals.pop(), vals.pop()
            self._stopping = self._stopping or (signal.SIGINT if sigint else signal.SIGTERM if term else 0)
        return dict(zip(self._sums, (v / self.dist.world_size for v in vals)))

    def _should_stop(self) -> bool:
        """A stop signal arrived: at once in one process, once the ranks have agreed under torchrun."""
        if self._stop is None:
            return False
        if not self.dist.enabled:
            self._stopping = self._stop.signum or 0
        return bool(self._stopping)

    def _now(self) -> float:
        """Seconds since the run started, the time before a resume included."""
        return self._time0 + time.perf_counter() - self._clock0

    def _check_finite(self, sums: dict[str, float] | None = None) -> dict[str, float]:
        """Raise :class:`TrainingError` if a loss since the last log row was NaN/inf; returns
        the rank-averaged sums.

        No per-step check is needed: the running loss sums (kept for the log) turn NaN or inf
        as soon as one term does, so looking at them here (at log rows and before every
        checkpoint) catches every bad step before a diverged model is saved. The sums are
        reduced over ranks first, so every rank sees the same verdict and stops together."""
        sums = self._mean_sums() if sums is None else sums
        if any(not math.isfinite(v) for v in sums.values()):
            self.logger.flush()
            last = self.run_dir / "last.pt"
            kept = f"the last good checkpoint is {last}" if last.is_file() else "no checkpoint was written"
            raise TrainingError(
                f"loss became NaN/inf by step {self.step} (epoch {self.epoch + 1}); training stopped and {kept}. "
                "Try a lower train.lr, train.clip_grad, more train.warmup_steps or train.amp=off"
            )
        return sums

    def _clip_and_step(self, optimizer, params) -> None:
        if self.cfg.train.clip_grad > 0:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(params, self.cfg.train.clip_grad)
        self.scaler.step(optimizer)

    def _loss(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        if self._loss_total is not None:
            return self._loss_total(losses)
        if len(losses) == 1:
            return next(iter(losses.values()))
        return sum(losses.values())

    def _accumulate(self, key: str, value) -> None:
        """Add a detached loss to the running sum of the log row (no host sync)."""
        old = self._sums.get(key)
        self._sums[key] = value if old is None else old + value

    def _train_batch(self, batch, sync: bool) -> None:
        if self._move:
            batch = to_device(batch, self.device, self.cfg.train.channels_last)
        images, targets = split_batch(batch)
        no_sync = self.model.no_sync if (self.dist.enabled and not sync and hasattr(self.model, "no_sync")) else nullcontext
        with no_sync():
            with autocast(self.device, self.amp):
                losses = self.model(images, targets)
                loss = self._loss(losses)
            self.scaler.scale(loss / self.accum if self.accum > 1 else loss).backward()
        self._accumulate("loss", loss.detach())
        if len(losses) > 1 or self._loss_total is not None:
            for k, v in losses.items():
                self._accumulate(k if k.startswith("loss") else f"loss_{k}", v.detach())
        else:  # one term: its sum is the total's
            (k,) = losses
            self._sums[k if k.startswith("loss") else f"loss_{k}"] = self._sums["loss"]
        if sync:
            opt = self.optimizers[0]
            self._clip_and_step(opt, self._params)
            self.scaler.update()
            opt.zero_grad(set_to_none=True)

    def _hook_batch(self, batch) -> None:
        if self._move:
            batch = to_device(batch, self.device, self.cfg.train.channels_last)
        for o in self.optimizers:  # no gradient survives a step (e.g. D's grads from G's loss)
            o.zero_grad(set_to_none=True)
        out = self.net.train_step(batch, self.optimizers, StepContext(self))
        self.scaler.update()
        for k, v in (out or {}).items():  # tensors are summed on the device (no sync)
            if isinstance(v, torch.Tensor):
                self._accumulate(k, v.detach().float())
            else:
                self._sums[k] = self._sums.get(k, 0.0) + float(v)

    # ----------------------------------------------------------------------------- fit

    def fit(self) -> dict:
        """Train to ``total_steps``, evaluating each ``eval_every`` epochs; returns a summary.

        SIGINT/SIGTERM (:mod:`.signals`, handlers held only while this runs) stop the run at the
        next step boundary: ``last.pt`` is saved, the logs flushed, the resume command printed,
        and the summary's ``stopped`` names the signal (its ``exit_code`` is 130 or 143)."""
        tc, log_every = self.cfg.train, max(self.cfg.train.log_every, 1)
        self.net.train()
        self._meter = EpochMeter(self.step)
        try:
            with StopSignals(announce=self.is_main) as self._stop:
                while self.step < self.total_steps and not self._should_stop():
                    self._epoch(log_every)
                    if self._should_stop() and self.step < self.total_steps:
                        self.save("last.pt")  # mid-epoch: the resume skips the batches done
                        break
                    self.epoch, self.epoch_batch = self.epoch + 1, 0  # finished: best.pt and last.pt both count it
                    if self.step >= self.total_steps or (tc.eval_every and self.epoch % tc.eval_every == 0):
                        self._evaluate_and_track()
                    if self.is_main:
                        for hook in self.hooks:  # e.g. the GAN's sample grid
                            hook.on_epoch_end(self)
                    self.save("last.pt")
        finally:
            self.logger.flush()
            self._stop = None  # the handlers are restored: nothing reads the flag after this
        stopped = signal.Signals(self._stopping).name if self._stopping and self.step < self.total_steps else None
        weights, why = self.best_rule.advice(self.epoch)
        if self.is_main:
            self._write_outputs()
            if stopped:
                print(f"{stopped}: stopped at step {self.step}/{self.total_steps}, saved {self.run_dir / 'last.pt'}; "
                      f"resume with: {resume_command(self.run_dir)}", file=sys.stderr, flush=True)
            elif self.show != "off" and self.val_set is not None:  # which file to use, with the progress lines
                print(f"use {self.run_dir / weights}: {why}", file=sys.stderr, flush=True)
        self.logger.close()
        return {"step": self.step, "epoch": self.epoch, "metrics": dict(self.last_metrics), "best": self.best,
                "run_dir": str(self.run_dir), "task": self.task, "weights": str(self.run_dir / weights), "stopped": stopped,
                "exit_code": EXIT_CODES.get(self._stopping, 0) if stopped else 0}

    def _log_row(self, seen: int, dt: float, bar) -> None:
        sums = self._check_finite()  # averaged over ranks
        n = self._steps_since * (1 if self.hook else self.accum)
        row = {"epoch": self.epoch + 1, "step": self.step, "lr": self.optimizers[0].param_groups[0]["lr"]}
        row.update({k: v / n for k, v in sums.items()})
        row["img_s"] = seen * self.dist.world_size / max(dt, 1e-9)
        row["time"] = now = round(self._now(), 3)
        row["epoch_time"] = round(now - self._epoch_t0, 3)
        self.logger.log(row)
        self._meter.add_row(row, sums, self._steps_since)
        shown = {k: f"{row[k]:.4g}" for k in sums if k == "loss" or self.hook}
        bar.set_postfix(**shown, lr=f"{row['lr']:.3g}", img_s=f"{row['img_s']:.1f}")
        self._sums, self._steps_since = {}, 0

    def _epoch(self, log_every: int) -> None:
        """One pass over the (rest of the) epoch; a step is ``grad_accum`` batches."""
        self.sampler.set_epoch(self.epoch)
        self.sampler.skip = self.epoch_batch * self.cfg.data.batch_size
        self.loader.generator.manual_seed(self.cfg.train.seed + 1000 * self.epoch + self.dist.rank)
        n = len(self.loader) + self.epoch_batch
        bar = progress(total=n, initial=self.epoch_batch, desc=f"epoch {self.epoch + 1}/{self.epochs}",
                       disable=self.show != "bar")
        if self.epoch_batch == 0:
            self._epoch_t0 = self._now()
        self._meter.start()
        seen, t0 = 0, time.perf_counter()
        for i, batch in enumerate(self.loader, start=self.epoch_batch):
            sync = (i + 1) % self.accum == 0 or i + 1 == n
            b = batch_size_of(split_batch(batch)[0])
            seen, self._meter.images = seen + b, self._meter.images + b
            if self.hook:
                self._hook_batch(batch)
            else:
                self._train_batch(batch, sync)
            bar.update(1)
            if not sync:
                continue
            for s in self.schedulers:
                s.step()
            if self.ema is not None:
                self.ema.update_parameters(self.net)
            self.step += 1
            self._steps_since += 1
            self.epoch_batch = i + 1
            if self.step % log_every == 0 or self.step >= self.total_steps or i + 1 == n:  # a row ends every epoch
                self._log_row(seen, time.perf_counter() - t0, bar)
                seen, t0 = 0, time.perf_counter()
            if self.cfg.train.ckpt_every and self.step % self.cfg.train.ckpt_every == 0:
                self.save("last.pt")
            if self.step >= self.total_steps or self._should_stop():
                break
        bar.close()
        if self.show == "lines":  # one line per epoch where there are no bars
            line = self._meter.line(self.epoch + 1, self.epochs, self.step, self.total_steps, self._now(), self.dist.world_size)
            print(line, file=sys.stderr, flush=True)

def train(cfg: Config, resume: str | None = None, **kwargs) -> dict:
    """Train from a config (the entry of ``tools/train.py`` and ``visionkit train``)."""
    trainer = Trainer(cfg, resume=resume, **kwargs)
    try:
        return trainer.fit()
    finally:
        D.cleanup()
