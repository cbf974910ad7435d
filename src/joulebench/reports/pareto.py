"""The Pareto frontier: variants no other variant beats on both axes."""

from __future__ import annotations

from collections.abc import Callable, Sequence


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


SurelyBetter = Callable[[int, int], tuple[bool, bool] | None]
"""``better(j, i)`` on one axis, by a paired test: (j surely at least as good as i, j surely
strictly better), or None when the test cannot be made (then the intervals decide)."""


def possibly_optimal_mask(
    xs: Sequence[Interval],
    ys: Sequence[Interval],
    *,
    x_better: SurelyBetter | None = None,
    y_better: SurelyBetter | None = None,
) -> list[bool]:
    """True for each point off the frontier (of the means) that no other point beats for sure.

    A point is beaten for sure when another is surely at least as good on both axes and
    strictly better on one. On an axis with a paired test (``x_better``/``y_better``: two
    variants scored on the same examples), "surely better" is that test's verdict; elsewhere
    it is the other's interval lying wholly at or beyond this point's (its low end reaching
    this point's high end). Off-frontier points not beaten for sure may be optimal.
    """
    frontier = pareto_mask([x[0] for x in xs], [y[0] for y in ys])
    mask = []
    for i in range(len(xs)):
        if frontier[i]:
            mask.append(False)
            continue
        beaten = any(_beats(j, i, xs, ys, x_better, y_better) for j in range(len(xs)) if j != i)
        mask.append(not beaten)
    return mask


def _axis_verdict(
    j: int, i: int, values: Sequence[Interval], better: SurelyBetter | None
) -> tuple[bool, bool]:
    """(j surely at least as good as i, j surely strictly better) on one axis."""
    paired = better(j, i) if better is not None else None
    if paired is not None:
        return paired
    low_j, high_i = values[j][1], values[i][2]
    return low_j >= high_i, low_j > high_i


def _beats(
    j: int,
    i: int,
    xs: Sequence[Interval],
    ys: Sequence[Interval],
    x_better: SurelyBetter | None,
    y_better: SurelyBetter | None,
) -> bool:
    x_at_least, x_strict = _axis_verdict(j, i, xs, x_better)
    y_at_least, y_strict = _axis_verdict(j, i, ys, y_better)
    return x_at_least and y_at_least and (x_strict or y_strict)
