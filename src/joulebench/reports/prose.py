"""Numbers and lists in sentences, for the methods section: ``5 classes``, ``a, b and c``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from joulebench.reports.numbers import significant


def num(value: Any, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, for prose."""
    return significant(float(value), digits)


def plural(count: int, word: str) -> str:
    """``1 round``, ``5 rounds``, ``5 classes``."""
    ending = "" if count == 1 else "es" if word.endswith("s") else "s"
    return f"{count:,} {word}{ending}"


def join(items: Sequence[str]) -> str:
    """``a, b and c`` (empty items left out)."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def count(value: Any) -> str:
    """A whole number with thousands separators, or words saying it was not recorded."""
    return f"{int(value):,}" if isinstance(value, int | float) else "an unrecorded number of"


def percent(fraction: float) -> str:
    """``0.05`` -> ``5%``, ``0.025`` -> ``2.5%`` (three significant digits at most)."""
    return f"{100 * fraction:.3g}%"
