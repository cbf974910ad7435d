"""Numbers for people: a fixed number of significant digits, thousands separators, and never
scientific notation for ordinary magnitudes (``1,230`` and ``120``, not ``1.23e+03`` and
``1.2e+02``). Files for machines (CSV, JSON) keep full precision; this is for tables."""

from __future__ import annotations

import math

PLAIN_RANGE = (1e-4, 1e15)
"""Magnitudes written out in full; outside it (rare) scientific notation is clearer."""


def significant(value: float, digits: int = 3, *, sign: bool = False) -> str:
    """``value`` to ``digits`` significant digits, with thousands separators (``+`` shown
    for positive values when ``sign``)."""
    if not math.isfinite(value):
        return "∞" if value > 0 else "-∞" if value < 0 else "—"
    plus = "+" if sign else ""
    if value == 0:
        return "0"
    size = abs(value)
    if not PLAIN_RANGE[0] <= size < PLAIN_RANGE[1]:
        return f"{value:{plus}.{digits}g}"
    magnitude = math.floor(math.log10(size))
    decimals = digits - 1 - magnitude
    rounded = round(value, decimals)
    if rounded != 0 and math.floor(math.log10(abs(rounded))) > magnitude:  # 9.99 -> 10.0
        decimals -= 1
        rounded = round(value, decimals)
    return f"{rounded:{plus},.{max(0, decimals)}f}"


def plus_minus(value: float, half: float, digits: int = 3) -> str:
    """``334 ± 120``: the value to ``digits`` significant digits, the half-width to 2."""
    return f"{significant(value, digits)} ± {significant(half, 2)}"
