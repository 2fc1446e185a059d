"""visionkit.bench: median_time skips warm-up calls and resists one slow call; fp32_peak
measures both GEMM paths."""

import time

from visionkit.bench import fp32_peak, machine, median_time


def test_median_time_skips_the_warmup_and_takes_the_median():
    calls = []

    def fn():
        calls.append(1)
        time.sleep(0.05 if len(calls) in (1, 3) else 0.0)  # the warm-up and one timed call are slow

    t = median_time(fn, repeats=3, warmup=1)
    assert len(calls) == 4
    assert t < 0.02  # the median of (0, slow, 0) is fast; the slow warm-up is not counted


def test_fp32_peak_measures_both_gemm_paths_and_keeps_the_larger():
    rates = fp32_peak("cpu", repeats=1)
    assert set(rates) == {"matmul", "conv1x1", "peak"}
    assert rates["matmul"] > 0 and rates["conv1x1"] > 0
    assert rates["peak"] == max(rates["matmul"], rates["conv1x1"])


def test_machine_names_the_cpu_threads_and_isa():
    import torch

    line = machine("cpu")
    assert f"{torch.get_num_threads()} threads" in line
    assert torch.backends.cpu.get_cpu_capability() in line and "native bf16" in line
