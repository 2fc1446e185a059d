"""visionkit.bench.median_time: warm-up calls are not timed; the median resists one slow call."""

import time

from visionkit.bench import median_time


def test_median_time_skips_the_warmup_and_takes_the_median():
    calls = []

    def fn():
        calls.append(1)
        time.sleep(0.05 if len(calls) in (1, 3) else 0.0)  # the warm-up and one timed call are slow

    t = median_time(fn, repeats=3, warmup=1)
    assert len(calls) == 4
    assert t < 0.02  # the median of (0, slow, 0) is fast; the slow warm-up is not counted
