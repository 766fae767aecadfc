"""How numbers read in tables: integers as integers, the rest to 4 significant digits."""

from __future__ import annotations

import math


def fmt(value) -> str:
    """``-`` for missing/NaN, ``51200`` for whole floats, ``0.6887`` otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e12:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
