"""Finding a meter log's clock offset from the run's own windows, when nobody noted it.

A USB or plug meter logs on its own clock, which is rarely the run's to the second (or only
counts seconds since it started). The run knows when each window began and ended, and the
windows differ in power (a variant, an idle window, the gaps between them): the log shows the
same steps. For each candidate offset the log is cut at the shifted window edges and fitted
with one mean power per window and one for the gaps between them; the offset whose fit leaves
the least squared error is the one where the log's steps line up with the windows.

The estimate is refused (with the fix: give ``--clock-offset-s``) when the windows' steps do
not explain most of the log's variation, or when another offset, at least half a window away,
fits almost as well (a run of identical windows at a regular period is ambiguous).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from joulebench.devices.meterlog import PowerLog
from joulebench.errors import UserError

DEFAULT_SEARCH_S = 300.0
"""A clock-time log is searched within ±5 minutes of the run's clock."""
MIN_EXPLAINED = 0.5
"""The windows' steps must explain at least half of the log's variance at the best offset."""
AMBIGUOUS_RATIO = 1.1
"""An offset at least half a window away whose error is within 10% of the best is a rival."""


@dataclass(frozen=True)
class OffsetEstimate:
    """The offset to add to the log's times, how finely it is known, and how well it fits."""

    offset_s: float
    resolution_s: float
    explained: float
    """Share of the log's variance the windows' steps explain at this offset (0..1)."""
    rival_ratio: float
    """Error of the best offset at least half a window away, over the best one's (>= 1)."""
    searched_s: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return asdict(self)


def _sse(t_s: np.ndarray, power_w: np.ndarray, edges: np.ndarray, windows: int) -> float:
    """Squared error of one mean per window and one for everything between windows."""
    index = np.searchsorted(edges, t_s, side="right")
    groups = np.where(index % 2 == 1, (index - 1) // 2, windows)
    counts = np.bincount(groups, minlength=windows + 1)
    sums = np.bincount(groups, weights=power_w, minlength=windows + 1)
    squares = np.bincount(groups, weights=power_w**2, minlength=windows + 1)
    used = counts > 0
    return float(np.sum(squares[used] - sums[used] ** 2 / counts[used]))


def estimate_clock_offset(
    log: PowerLog,
    spans: Sequence[tuple[float, float]],
    *,
    search_s: float = DEFAULT_SEARCH_S,
) -> OffsetEstimate:
    """The offset that lines the log's power steps up with the run's windows ``spans``.

    ``spans`` are every window's ``(start_unix_s, end_unix_s)`` (workloads and idle alike).
    Only offsets at which the log covers every window are tried: for a log of elapsed seconds
    all of them, for a clock-time log those within ``search_s`` of 0.
    """
    if len(spans) < 3:
        raise UserError(
            "a clock offset cannot be estimated from fewer than 3 windows; give --clock-offset-s"
        )
    ordered = sorted(spans)
    edges = np.array([x for span in ordered for x in span], dtype=float)
    if np.any(np.diff(edges) < 0):
        raise UserError("the run's windows overlap; a clock offset cannot be estimated")
    t_s, power_w = log.t_s, log.power_w
    low = edges[-1] - t_s[-1]  # the log must reach the last window's end
    high = edges[0] - t_s[0]  # and begin before the first window's start
    if log.time_kind != "elapsed":
        low, high = max(low, -search_s), min(high, search_s)
    if low > high:
        raise UserError(
            f"meter log {log.source} is shorter than the run it should cover "
            f"({t_s[-1] - t_s[0]:.0f} s of log for {edges[-1] - edges[0]:.0f} s of windows)"
            + (
                ""
                if log.time_kind == "elapsed"
                else f" within ±{search_s:.0f} s of the run's clock"
            )
            + "; give --clock-offset-s if the clocks are further apart"
        )
    step_s = log.sample_interval_s / 4
    coarse = np.arange(low, high + step_s, step_s)
    errors = np.array([_sse(t_s + d, power_w, edges, len(ordered)) for d in coarse])
    best = int(np.argmin(errors))
    fine = np.linspace(coarse[best] - step_s, coarse[best] + step_s, 41)
    fine = fine[(fine >= low) & (fine <= high)]
    fine_errors = np.array([_sse(t_s + d, power_w, edges, len(ordered)) for d in fine])
    offset_s = float(fine[int(np.argmin(fine_errors))])
    best_error = float(fine_errors.min())
    total = float(np.sum((power_w - power_w.mean()) ** 2))
    explained = 1.0 - best_error / total if total > 0 else 0.0
    half_window_s = min(b - a for a, b in ordered) / 2
    away = np.abs(coarse - offset_s) >= half_window_s
    rival = float(errors[away].min() / best_error) if away.any() and best_error > 0 else math.inf
    estimate = OffsetEstimate(offset_s, log.sample_interval_s / 2, explained, rival, (low, high))
    if explained < MIN_EXPLAINED:
        raise UserError(
            f"meter log {log.source}: the run's windows explain only {explained:.0%} of the "
            "log's variation at any clock offset (does the log cover this run?); give "
            "--clock-offset-s"
        )
    if rival < AMBIGUOUS_RATIO:
        raise UserError(
            f"meter log {log.source}: clock offsets {offset_s:+.1f} s and "
            f"{float(coarse[away][np.argmin(errors[away])]):+.1f} s fit the windows almost "
            "equally well (windows too alike); give --clock-offset-s"
        )
    return estimate
