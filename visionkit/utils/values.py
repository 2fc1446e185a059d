"""Checks of values read from files (JSON, metadata): what a number from outside must be."""

from __future__ import annotations

import math


def is_finite_number(v) -> bool:
    """An int or float that is finite; ``True``/``False`` are not numbers here."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
