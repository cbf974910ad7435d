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


SignificantlyBetter = Callable[[int, int], bool | None]
"""``better(j, i)`` on one axis, by a paired test: whether point j is significantly better than
point i, or None when the test cannot be made (then the intervals decide)."""


def possibly_optimal_mask(
    xs: Sequence[Interval],
    ys: Sequence[Interval],
    *,
    x_better: SignificantlyBetter | None = None,
    y_better: SignificantlyBetter | None = None,
) -> list[bool]:
    """True for each point off the frontier (of the means) that no test separates from it.

    A point off the frontier is beaten when some point that dominates it on the means is
    also significantly better on at least one axis: by a paired test where there is one
    (``x_better``/``y_better``: two variants scored on the same examples), elsewhere by 95%
    intervals that do not overlap (the other's low end above this point's high end). A point
    off the frontier that no dominating point is significantly better than is "possibly
    optimal": its distance from the frontier is within the noise.
    """
    frontier = pareto_mask([x[0] for x in xs], [y[0] for y in ys])
    mask = []
    for i in range(len(xs)):
        if frontier[i]:
            mask.append(False)
            continue
        beaten = any(
            _significant(j, i, xs, x_better) or _significant(j, i, ys, y_better)
            for j in range(len(xs))
            if j != i and _dominates(j, i, xs, ys)
        )
        mask.append(not beaten)
    return mask


def _dominates(j: int, i: int, xs: Sequence[Interval], ys: Sequence[Interval]) -> bool:
    """Point j is at least as good on both means and better on one."""
    xj, xi, yj, yi = xs[j][0], xs[i][0], ys[j][0], ys[i][0]
    return xj >= xi and yj >= yi and (xj > xi or yj > yi)


def _significant(
    j: int, i: int, values: Sequence[Interval], better: SignificantlyBetter | None
) -> bool:
    """Point j is significantly better than point i on one axis."""
    paired = better(j, i) if better is not None else None
    if paired is not None:
        return paired
    return values[j][1] > values[i][2]
