"""The Pareto frontier: variants no other variant beats on both axes."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_mask(xs: Sequence[float], ys: Sequence[float]) -> list[bool]:
    """True for each point that no other point matches or beats on both x and y (higher is
    better on both) while strictly beating it on one."""
    mask = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        dominated = any(
            (xo >= x and yo >= y) and (xo > x or yo > y)
            for j, (xo, yo) in enumerate(zip(xs, ys, strict=True))
            if j != i
        )
        mask.append(not dominated)
    return mask
