"""Two training ranks as forked processes on a free localhost port (gloo), for the DDP tests."""

from __future__ import annotations

import socket

import torch.multiprocessing as mp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(target, *args, world: int = 2, timeout: float = 180) -> list[int | None]:
    """Run ``target(rank, port, *args)`` in ``world`` forked processes; their exit codes (a
    process still alive after ``timeout`` seconds is killed)."""
    port = free_port()
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=target, args=(r, port, *args)) for r in range(world)]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join(timeout=timeout)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
    return [p.exitcode for p in procs]
