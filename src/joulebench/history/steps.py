"""Where a series moved: a piecewise-constant fit weighted by each point's interval.

Each point has a value ``y`` and a standard error ``s`` from its own run. Runs of the same code
also differ between processes by more than their windows show (issue 15 measured 3%), so each
point's weight is ``1 / (s^2 + tau^2)``, with the between-run variance ``tau^2`` estimated from
the series itself: first from the spread of successive differences (the median absolute
deviation, which a few steps do not move), then from the residuals of the fit it gives (twice),
less what the points' own errors explain.

The fit is **optimal partitioning** (exact dynamic programming, Jackson et al. 2005): the
segmentation that minimises the weighted squared error plus a penalty per step, every
segment at least three points long. A step is then kept only if it is significant on its own,
``|difference of the two segments' weighted means| / its standard error >= Z_MIN``, and at
least :data:`MIN_STEP` large; the weakest failing step is merged away until all pass, so a
step comes with its size and a 95% interval. Energy, time and idle power are fitted on the log
scale (a step is a ratio), accuracy on its own scale (points). ``bench/bench_history.py``
gives the detection rate and false alarms over many seeded series; the penalty and ``Z_MIN``
were set there.

Why not ruptures: its penalised search has no per-point weights, and a fit this small (tens to
hundreds of points) is a few lines of exact dynamic programming.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

Z_MIN = 3.5
MIN_STEP = {True: 0.02, False: 0.01}
"""The smallest step reported: 2% for a ratio (energy, time, idle power), 1 point of
accuracy; a smaller move may be real but is not worth a reader's attention (asv too asks for
both a size and a confidence)."""
PENALTY_PER_LOG_N = 3.0
MIN_SEGMENT = 3
"""Points a segment needs: a step in the last one or two runs is the gate's to judge."""
REFITS = 2
Z95 = 1.959964


@dataclass(frozen=True)
class Step:
    """A move between two segments: the first point after it, its size and 95% interval."""

    index: int
    size: float
    ci_low: float
    ci_high: float
    z: float


def between_run_variance(y: np.ndarray, s: np.ndarray) -> float:
    """``tau^2``: the variance between points beyond their own standard errors."""
    d = np.diff(y)
    if d.size < 3:
        return 0.0
    spread = 1.4826 * float(np.median(np.abs(d - np.median(d))))
    within = float(np.mean((s[:-1] ** 2 + s[1:] ** 2) / 2))
    return max(0.0, spread**2 / 2 - within)


def _weights(s: np.ndarray, tau2: float) -> np.ndarray:
    variance = s**2 + tau2
    floor = max(float(np.median(variance)), 1e-24) * 1e-6
    return 1.0 / np.maximum(variance, floor)


def _residual_variance(y: np.ndarray, s: np.ndarray, w: np.ndarray, cuts: list[int]) -> float:
    """``tau^2`` from the residuals of a segmentation: their variance (less one degree of
    freedom per segment) beyond the points' own errors."""
    edges = [0, *cuts, y.size]
    residuals = np.concatenate(
        [y[a:b] - np.sum(w[a:b] * y[a:b]) / np.sum(w[a:b]) for a, b in pairwise(edges)]
    )
    dof = y.size - (len(edges) - 1)
    if dof < 2:
        return 0.0
    return max(0.0, float(np.sum(residuals**2)) / dof - float(np.mean(s**2)))


def _segments(y: np.ndarray, w: np.ndarray, penalty: float) -> list[int]:
    """Change points (start indices of every segment but the first) of the optimal fit."""
    n = y.size
    cw = np.concatenate(([0.0], np.cumsum(w)))
    cwy = np.concatenate(([0.0], np.cumsum(w * y)))
    cwyy = np.concatenate(([0.0], np.cumsum(w * y * y)))

    def cost(i: int, j: int) -> float:
        total = cw[j] - cw[i]
        return float(cwyy[j] - cwyy[i] - (cwy[j] - cwy[i]) ** 2 / total)

    best = np.full(n + 1, math.inf)
    best[0] = -penalty
    previous = np.zeros(n + 1, dtype=int)
    for j in range(MIN_SEGMENT, n + 1):
        for i in range(0, j - MIN_SEGMENT + 1):
            if i != 0 and i < MIN_SEGMENT:
                continue
            candidate = best[i] + cost(i, j) + penalty
            if candidate < best[j]:
                best[j], previous[j] = candidate, i
    points: list[int] = []
    j = n
    while j > 0:
        i = int(previous[j])
        if i > 0:
            points.append(i)
        j = i
    return sorted(points)


def _step(y: np.ndarray, w: np.ndarray, start: int, cut: int, end: int, ratio: bool) -> Step:
    left, right = slice(start, cut), slice(cut, end)
    mean_l = float(np.sum(w[left] * y[left]) / np.sum(w[left]))
    mean_r = float(np.sum(w[right] * y[right]) / np.sum(w[right]))
    se = math.sqrt(1 / float(np.sum(w[left])) + 1 / float(np.sum(w[right])))
    diff = mean_r - mean_l
    low, high = diff - Z95 * se, diff + Z95 * se
    if ratio:
        return Step(cut, math.expm1(diff), math.expm1(low), math.expm1(high), diff / se)
    return Step(cut, diff, low, high, diff / se)


def detect_steps(
    values: Sequence[float],
    ses: Sequence[float],
    *,
    ratio: bool = True,
    penalty: float | None = None,
    z_min: float = Z_MIN,
    min_size: float | None = None,
) -> list[Step]:
    """The steps of a series of ``values`` with standard errors ``ses``, oldest first: each
    at least ``z_min`` standard errors and ``min_size`` (default :data:`MIN_STEP`) large."""
    smallest = MIN_STEP[ratio] if min_size is None else min_size
    v = np.asarray(values, dtype=float)
    s = np.asarray(ses, dtype=float)
    if v.size < 2 * MIN_SEGMENT:
        return []
    if ratio:
        if np.any(v <= 0):
            return []
        y, s = np.log(v), s / v
    else:
        y = v
    beta = PENALTY_PER_LOG_N * math.log(v.size) if penalty is None else penalty
    tau2 = between_run_variance(y, s)
    for _ in range(REFITS):  # tau^2 again from the residuals of the fit it made
        w = _weights(s, tau2)
        cuts = _segments(y, w, beta)
        tau2 = _residual_variance(y, s, w, cuts)
    w = _weights(s, tau2)
    cuts = _segments(y, w, beta)
    while cuts:
        edges = [0, *cuts, v.size]
        steps = [_step(y, w, edges[k], edges[k + 1], edges[k + 2], ratio) for k in range(len(cuts))]
        failing = [
            k for k, step in enumerate(steps) if abs(step.z) < z_min or abs(step.size) < smallest
        ]
        if not failing:
            return steps
        cuts.pop(min(failing, key=lambda k: abs(steps[k].z)))
    return []
