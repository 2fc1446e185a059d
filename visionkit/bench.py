"""Timing helpers shared by the benchmark scripts in ``tools/bench_*.py``."""

from __future__ import annotations

import platform
import statistics
import time
from typing import Callable

import torch

from .engine.device import cpu_has_bf16


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` calls, after ``warmup``
    untimed calls (first-call allocations, lazy initialisation, caches)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(repeats, 1)):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def fp32_peak(device: str = "cpu", repeats: int = 10) -> dict[str, float]:
    """This machine's best observed fp32 GFLOP/s on dense GEMM work, two ways: ``matmul``
    (a 2048² ``torch.mm``, which PyTorch hands to its BLAS, MKL on x86) and ``conv1x1`` (a
    1024→1024 1×1 convolution over a 32×32 map, the same GEMM through oneDNN, the library that
    runs the networks' convolutions). On AMD CPUs MKL may not take its AVX-512 path while oneDNN
    does, so the two can differ by 2× (docs/RESULTS.md); ``peak`` is the larger, the fair
    yardstick for a convolutional network's achieved rate."""
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)

    def best_rate(fn, flops: float) -> float:
        for _ in range(2):  # warm-up: allocation, kernel selection
            fn()
        best = 0.0
        for _ in range(max(repeats, 1)):
            sync()
            t = time.perf_counter()
            fn()
            sync()
            best = max(best, flops / (time.perf_counter() - t) / 1e9)
        return best

    n = 2048
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    c, hw = 1024, 32
    conv = torch.nn.Conv2d(c, c, 1, bias=False).to(device).eval()
    x = torch.randn(1, c, hw, hw, device=device)
    with torch.inference_mode():
        rates = {"matmul": best_rate(lambda: a @ b, 2 * n**3), "conv1x1": best_rate(lambda: conv(x), 2 * c * c * hw * hw)}
    rates["peak"] = max(rates.values())
    return rates


def machine(device: str = "cpu") -> str:
    """One line naming the hardware a benchmark ran on: the CPU's model name, PyTorch's
    threads and vector ISA and whether bf16 is native (or the CUDA device's name). Timings from
    different machines are not comparable; this line travels with every number."""
    if str(device).startswith("cuda"):
        return f"{torch.cuda.get_device_name(torch.device(device))}, CUDA {torch.version.cuda}"
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            name = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), name)
    except OSError:
        pass

    isa = torch.backends.cpu.get_cpu_capability()
    return f"{name}, {torch.get_num_threads()} threads, {isa}, native bf16: {'yes' if cpu_has_bf16() else 'no'}"
