"""Checks on numbers parsed from a tool's printed output, allowing for the printed rounding."""


def within_rounding(printed: float, value: float, step: float) -> bool:
    """``printed`` is ``value`` rounded to ``step`` (0.1 for ``:.1f``)."""
    return abs(printed - value) <= step / 2 + 1e-9


def ratio_within_rounding(printed: float, num: float, den: float, num_step: float, den_step: float, step: float) -> bool:
    """``printed`` (rounded to ``step``) is ``num / den`` where ``num`` and ``den`` are
    themselves printed values rounded to ``num_step`` and ``den_step``."""
    lo = (num - num_step / 2) / (den + den_step / 2)
    hi = (num + num_step / 2) / max(den - den_step / 2, 1e-12)
    return lo - step / 2 - 1e-9 <= printed <= hi + step / 2 + 1e-9
