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


Interval = tuple[float, float, float]
"""(value, low, high) of one figure, turned so that larger is better."""


def possibly_optimal_mask(xs: Sequence[Interval], ys: Sequence[Interval]) -> list[bool]:
    """True for each point off the frontier (of the means) that no other point beats for sure.

    A point is beaten for sure when another's interval lies wholly at or beyond it on both axes
    (and strictly beyond on one): its low ends reach this point's high ends. Off-frontier points
    that are not beaten for sure have intervals that overlap the frontier: with this much
    uncertainty they may be optimal.
    """
    frontier = pareto_mask([x[0] for x in xs], [y[0] for y in ys])
    mask = []
    for i, ((_, _, x_high), (_, _, y_high)) in enumerate(zip(xs, ys, strict=True)):
        if frontier[i]:
            mask.append(False)
            continue
        beaten = any(
            xo_low >= x_high and yo_low >= y_high and (xo_low > x_high or yo_low > y_high)
            for j, ((_, xo_low, _), (_, yo_low, _)) in enumerate(zip(xs, ys, strict=True))
            if j != i
        )
        mask.append(not beaten)
    return mask
