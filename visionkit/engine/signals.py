"""Stopping a training run cleanly on SIGINT (Ctrl-C) or SIGTERM (a job scheduler, ``kill``).

:class:`StopSignals` installs handlers for the duration of a ``with`` block (``Trainer.fit``)
and restores the previous ones afterwards, so a notebook's or an application's own handlers
survive a run. The first signal only sets a flag; the trainer reads it at the next step
boundary, saves ``last.pt`` and returns. A second Ctrl-C (more than ``REPEAT_S`` seconds after
the first) raises ``KeyboardInterrupt`` at once. Signals closer together than that count as one
request: on Ctrl-C under ``torchrun`` every rank gets SIGINT from the terminal and again from
the launcher, which then waits 30 s before it kills its workers.

Under torchrun the ranks agree on the stop through a flag summed with the loss sums that are
reduced at every log row (``Trainer._mean_sums``), so every rank stops at the same step and no
rank waits in a collective the others skip.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + signal number, as shells report


class StopSignals:
    """``with StopSignals() as stop: ... if stop.requested: ...``; ``stop.signum`` says which."""

    REPEAT_S = 1.0

    def __init__(self, signals=(signal.SIGINT, signal.SIGTERM), announce: bool = True):
        self.signals = tuple(signals)
        self.announce = announce
        self.signum: int | None = None
        self._at = 0.0
        self._previous: dict[int, object] = {}
        self._pid = os.getpid()

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    def handle(self, signum: int, frame=None) -> None:
        """The handler: remember the first signal; a later Ctrl-C aborts."""
        if os.getpid() != self._pid:  # a forked data-loader worker: the trainer's process stops it
            return
        now = time.monotonic()
        if self.signum is None:
            self.signum, self._at = signum, now
            if self.announce:
                print(f"\n{signal.Signals(signum).name}: stopping after this step and saving last.pt "
                      "(Ctrl-C again to abort at once)", file=sys.stderr, flush=True)
        elif signum == signal.SIGINT and now - self._at > self.REPEAT_S:
            raise KeyboardInterrupt

    def __enter__(self) -> "StopSignals":
        self._pid = os.getpid()
        if threading.current_thread() is threading.main_thread():  # signal.signal works only there
            for s in self.signals:
                self._previous[s] = signal.signal(s, self.handle)
        return self

    def __exit__(self, *exc) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)
        self._previous.clear()


def resume_command(run_dir: str | Path) -> str:
    """The command that continues the run in ``run_dir`` from its ``last.pt``: ``visionkit
    train`` on the run's own resolved ``config.yaml`` (which holds every override and the run's
    final name), under ``torchrun`` with the same number of processes when launched by it."""
    run_dir = Path(run_dir)
    cmd = ["visionkit", "train", str(run_dir / "config.yaml"), "--resume", str(run_dir / "last.pt")]
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        nodes = int(os.environ.get("GROUP_WORLD_SIZE", "1"))
        per_node = int(os.environ.get("LOCAL_WORLD_SIZE", world))
        launcher = ["torchrun"] + (["--nnodes", str(nodes)] if nodes > 1 else []) + ["--nproc_per_node", str(per_node), "-m"]
        cmd = launcher + ["visionkit"] + cmd[1:]
    return " ".join(shlex.quote(c) for c in cmd)
