"""Run logs: progress (bars or lines), ``metrics.jsonl`` / ``metrics.csv`` and TensorBoard.

Progress (``train.progress``, :func:`progress_mode`): tqdm bars on a terminal; on anything else
(a log file, nohup, a job scheduler, CI) one plain line per epoch (:func:`epoch_line`) and one
per evaluation, which a log file keeps readable; nothing when ``quiet``.

Every logged row is a flat dict (``epoch``, ``step``, ``lr``, ``loss``, each loss term, ``img_s``,
``time`` (seconds since the run started, resumes included) and ``epoch_time`` (seconds since
the epoch started), or ``val/<metric>`` and ``time`` after an evaluation). Rows are kept in memory and the two files are
rewritten atomically now and then, so they are always complete and parseable. The CSV's
columns are the union of all keys seen. Only rank 0 writes (the others get ``enabled=False``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from tqdm import tqdm

from ..errors import ConfigError
from ..utils.io import atomic_write_text

PROGRESS_MODES = ("auto", "on", "bar", "lines", "off")


def quiet_mode(quiet: bool) -> bool:
    """Progress bars are off when asked, in CI, or when stderr is not a terminal."""
    return bool(quiet or os.environ.get("CI") or not sys.stderr.isatty())


def progress_mode(setting: str, quiet: bool = False) -> str:
    """What a run shows: ``"bar"``, ``"lines"`` or ``"off"``.

    ``auto`` is bars on a terminal, lines elsewhere (a log file, CI), nothing when ``quiet``;
    ``on`` is the same but ignores ``quiet`` (``--progress``); ``bar``, ``lines`` and ``off``
    are taken as they are."""
    setting = {"false": "off", "true": "on"}.get(str(setting).lower(), setting)  # YAML reads a bare off/on as a bool
    if setting not in PROGRESS_MODES:
        raise ConfigError(f"train.progress: bad value {setting!r}; expected {', '.join(PROGRESS_MODES)}")
    if setting == "auto" and quiet:
        return "off"
    if setting in ("auto", "on"):
        return "bar" if sys.stderr.isatty() and not os.environ.get("CI") else "lines"
    return setting


def duration(seconds: float) -> str:
    """``"45s"``, ``"4m10s"``, ``"2h05m"``: short enough for a progress line."""
    s = int(round(max(seconds, 0.0)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def epoch_line(epoch: int, epochs: int, step: int, losses: dict[str, float], img_s: float, elapsed: float,
               eta: float | None) -> str:
    """``epoch 3/20  step 450  loss 1.234 (loss_box 0.5, loss_cls 0.7)  12.3 img/s  elapsed 4m10s  ETA 23m``."""
    parts = [f"epoch {epoch}/{epochs}", f"step {step}"]
    others = {k: v for k, v in losses.items() if k != "loss"}
    terms = ", ".join(f"{k} {v:.4g}" for k, v in others.items())
    if "loss" in losses:  # the total, then its terms (a single term is the total itself)
        parts.append(f"loss {losses['loss']:.4g}" + (f" ({terms})" if len(others) > 1 else ""))
    elif terms:  # e.g. a GAN's loss_d and loss_g
        parts.append(terms)
    parts += [f"{img_s:.1f} img/s", f"elapsed {duration(elapsed)}"]
    if eta is not None:
        parts.append(f"ETA {duration(eta)}")
    return "  ".join(parts)


class EpochMeter:
    """What an epoch's progress line reports: the step-weighted mean of the losses logged in the
    epoch, its images/s, and an ETA from this session's seconds per step (evaluations included)."""

    def __init__(self, step: int):
        self._session = (step, time.perf_counter())
        self.start()

    def start(self) -> None:
        self.sums: dict[str, float] = {}
        self.steps, self.images, self._clock = 0, 0, time.perf_counter()

    def add_row(self, row: dict, keys: Iterable[str], steps: int) -> None:
        """A logged row holding the mean of ``keys`` over ``steps`` steps."""
        for k in keys:
            self.sums[k] = self.sums.get(k, 0.0) + row[k] * steps
        self.steps += steps

    def line(self, epoch: int, epochs: int, step: int, total_steps: int, elapsed: float, world: int = 1) -> str:
        done, t0 = self._session
        eta = (time.perf_counter() - t0) / (step - done) * (total_steps - step) if step > done else None
        losses = {k: v / max(self.steps, 1) for k, v in self.sums.items()}
        img_s = self.images * world / max(time.perf_counter() - self._clock, 1e-9)
        return epoch_line(epoch, epochs, step, losses, img_s, elapsed, eta)


def progress(iterable: Iterable | None = None, total: int | None = None, desc: str = "", disable: bool = False, initial: int = 0):
    """A tqdm bar (ETA and rate come with it); ``disable`` for quiet runs and non-zero ranks."""
    return tqdm(iterable, total=total, desc=desc, disable=disable, initial=initial, dynamic_ncols=True, leave=False)


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None  # undefined metric (e.g. AP of a class without GT): null in JSON, empty in CSV
    return v


def _row_key(row: dict) -> tuple:
    """What a row records: training losses or an evaluation, at one step. A resumed run that
    logs a step again replaces the old row, so the log equals the uninterrupted run's."""
    return row.get("step"), any(str(k).startswith("val/") for k in row)


class RunLogger:
    """Collects rows and writes ``metrics.jsonl``, ``metrics.csv`` and TensorBoard scalars."""

    FLUSH_SECONDS = 30.0

    def __init__(self, run_dir: str | Path, enabled: bool = True, tensorboard: bool = True, rows: list[dict] | None = None):
        self.run_dir = Path(run_dir)
        self.enabled = enabled
        self.rows: list[dict] = list(rows or [])
        self._dirty = 0
        self._flushed_at = time.monotonic()
        self._tb = None
        if enabled and tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(self.run_dir / "tb"))

    @staticmethod
    def read_rows(run_dir: str | Path, max_step: int | None = None) -> list[dict]:
        """Rows of an existing ``metrics.jsonl`` (for resume), those after ``max_step`` dropped."""
        path = Path(run_dir) / "metrics.jsonl"
        if not path.is_file():
            return []
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if max_step is None or row.get("step", 0) <= max_step:
                rows.append(row)
        return rows

    def log(self, row: dict, flush: bool = False) -> None:
        if not self.enabled:
            return
        row = {k: _plain(v) for k, v in row.items()}
        key = _row_key(row)
        if any(_row_key(r) == key for r in self.rows[-8:]):  # the same step logged again after a resume
            self.rows = [r for r in self.rows if _row_key(r) != key]
        self.rows.append(row)
        if self._tb is not None:
            step = int(row.get("step", len(self.rows)))
            for k, v in row.items():
                if k not in ("epoch", "step") and isinstance(v, (int, float)) and not isinstance(v, bool):
                    self._tb.add_scalar(k if "/" in k else f"train/{k}", v, step)
        self._dirty += 1
        # every 50 rows, and at least every 30 s, so a slow model's run shows its progress on disk
        if flush or self._dirty >= 50 or time.monotonic() - self._flushed_at > self.FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self.enabled or not self._dirty:
            return
        self._dirty, self._flushed_at = 0, time.monotonic()
        atomic_write_text(self.run_dir / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in self.rows))
        columns: list[str] = []
        for r in self.rows:
            columns += [k for k in r if k not in columns]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.run_dir / "metrics.csv", buf.getvalue())
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        self.flush()
        if self._tb is not None:
            self._tb.close()
            self._tb = None
