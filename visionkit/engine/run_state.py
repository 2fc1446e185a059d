"""What a checkpoint holds of a run, and how a run resumes from one (the :class:`Trainer`'s
``save``, ``_state`` and ``_load_resume``, apart from the training loop).

A checkpoint is plain tensors and Python types (loadable with ``weights_only=True``): model,
optimizer(s), scheduler(s), scaler, EMA, the position (``epoch``, ``epoch_batch``, ``step``),
every rank's RNG state, the resolved config, classes, task, the last metrics, the best.pt rule's
state, the operating point ``conf`` and the run clock (``time``). Resuming restores all of it, so
a resumed run ends on the weights and the log of an uninterrupted one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..config import to_dict
from ..errors import WeightsError
from . import distributed as D
from .checkpoint import load_checkpoint, load_weights, rng_state, save_checkpoint, set_rng_state


class RunState:
    """Mixin of :class:`~visionkit.engine.trainer.Trainer`: checkpoint writing and resuming."""

    def _resume_path(self, resume: str | None) -> Path | None:
        if not resume:
            return None
        if resume == "auto":
            p = self.run_dir / "last.pt"
            return p if p.is_file() else None
        return Path(resume)

    def _load_resume(self, path: Path) -> None:
        ckpt = load_checkpoint(path, map_location=self.device, task=self.task or None)
        want = (self.cfg.model or {}).get("name")
        have = (ckpt.get("config") or {}).get("model", {}).get("name")
        if want and have and want != have:
            raise WeightsError(f"{path}: checkpoint is for model {have!r}, the config asks for {want!r}")
        if not ckpt.get("optimizer") or "step" not in ckpt:
            raise WeightsError(f"{path}: holds weights only (a packed or bundled model), not a training state, so it "
                               "cannot be resumed; start a new run instead")
        load_weights(self.net, ckpt["model"], path)
        opt_states = ckpt["optimizer"] if isinstance(ckpt["optimizer"], list) else [ckpt["optimizer"]]
        try:
            for o, s in zip(self.optimizers, opt_states):
                o.load_state_dict(s)
        except (ValueError, KeyError) as e:
            raise WeightsError(f"{path}: its optimizer state does not fit this run's optimizer ({e})") from None
        sched_states = ckpt["scheduler"] if isinstance(ckpt["scheduler"], list) else [ckpt["scheduler"]]
        for sc, s in zip(self.schedulers, sched_states):
            sc.load_state_dict(s)
        if ckpt.get("scaler"):
            self.scaler.load_state_dict(ckpt["scaler"])
        if self.ema is not None and ckpt.get("ema"):
            self.ema.load_state_dict(ckpt["ema"])
        self.step, self.epoch, self.epoch_batch = int(ckpt["step"]), int(ckpt["epoch"]), int(ckpt.get("epoch_batch", 0))
        self.best_rule.load(ckpt)
        self.conf = ckpt.get("conf")
        self._time0 = float(ckpt.get("time") or 0.0)
        self._epoch_t0 = float(ckpt.get("epoch_start_time") or 0.0) if self.epoch_batch else self._time0
        self.last_metrics = dict(ckpt.get("metrics") or {})
        rng = ckpt.get("rng")
        if isinstance(rng, list):
            rng = rng[self.dist.rank] if self.dist.rank < len(rng) else None
        if rng:
            set_rng_state(rng)
        if self.is_main and (not self.cfg.quiet or self.show != "off"):
            where = (f"epoch {self.epoch + 1}/{self.epochs}, batch {self.epoch_batch}" if self.epoch_batch
                     else f"the end of epoch {self.epoch}/{self.epochs}")
            print(f"resumed from {path} at step {self.step}/{self.total_steps} ({where})", file=sys.stderr, flush=True)

    # -------------------------------------------------------------------- checkpoints

    def _state(self) -> dict:
        rng = rng_state()
        if self.dist.enabled:
            rng = D.all_gather_object(rng)
        one = len(self.optimizers) == 1 and not self.hook
        return {
            "model": self.net.state_dict(),
            "optimizer": self.optimizers[0].state_dict() if one else [o.state_dict() for o in self.optimizers],
            "scheduler": self.schedulers[0].state_dict() if one else [s.state_dict() for s in self.schedulers],
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "epoch": self.epoch, "epoch_batch": self.epoch_batch, "step": self.step,
            "rng": rng, "config": to_dict(self.cfg), "classes": list(self.classes), "task": self.task,
            "metrics": dict(self.last_metrics), **self.best_rule.state(), "conf": self.conf,
            "time": self._now(), "epoch_start_time": self._epoch_t0,
        }

    def save(self, name: str = "last.pt") -> None:
        """Write ``run_dir/name`` (rank 0), refusing if the loss went non-finite."""
        self._check_finite()
        state = self._state()  # every rank takes part in gathering the RNG states
        if self.is_main:
            # the log first: a kill between the two leaves rows ahead of the checkpoint, which a
            # resume drops (RunLogger.read_rows), never a checkpoint ahead of its rows
            self.logger.flush()
            save_checkpoint(self.run_dir / name, state)
