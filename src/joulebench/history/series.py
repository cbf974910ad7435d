"""Points of a history: one per run, per (machine, energy method, variant, metric).

Each run document gives, for every variant (or workload), its energy and time per inference
(the mean over its windows, or over its runs' means with ``--repeat``; the standard error from
the same values) and its accuracy (Wilson interval as a normal error), and once per run the
machine's idle power. Runs are ordered by the commit time their ``provenance`` recorded, then
by when they ran; a run without a commit keeps its place by time and is shown as
"(no commit)".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from joulebench.harness.repeats import means_by_run
from joulebench.results.frame import documents

SeriesKey = tuple[str, str, str, str]
"""(machine, energy method, variant, metric)."""
IDLE = "(idle power)"
"""The variant name of a machine's idle-power series."""
RATIO_METRICS = ("energy_j", "time_s", "idle_power_w")
"""Metrics whose steps are relative (a ratio); accuracy moves in points."""
METRIC_UNITS = {
    "energy_j": ("mJ", 1000.0),
    "time_s": ("ms", 1000.0),
    "accuracy": ("%", 100.0),
    "idle_power_w": ("W", 1.0),
}


@dataclass(frozen=True)
class Point:
    """One run's figure in a series, with its standard error."""

    machine: str
    method: str
    variant: str
    metric: str
    value: float
    se: float
    run_id: str
    created_utc: str
    commit: str | None
    commit_time_utc: str | None
    branch: str | None

    @property
    def key(self) -> SeriesKey:
        """The series the point belongs to."""
        return (self.machine, self.method, self.variant, self.metric)

    @property
    def order(self) -> tuple[str, str]:
        """Where the point's run goes in a history (:func:`run_order`)."""
        return run_order(self.commit_time_utc, self.created_utc)

    @property
    def short_commit(self) -> str:
        """The commit's first 8 characters, or ``(no commit)``."""
        return self.commit[:8] if self.commit else "(no commit)"


def run_order(commit_time_utc: str | None, created_utc: str) -> tuple[str, str]:
    """A run's place in a history: the time of the commit it measured (its own time where it
    recorded none), then its own time."""
    return (commit_time_utc or created_utc, created_utc)


def document_order(document: dict[str, Any]) -> tuple[str, str]:
    """:func:`run_order` of a run document."""
    code = document.get("provenance") or {}
    return run_order(code.get("commit_time_utc"), str(document.get("created_utc")))


def run_mean_se(measurement: dict[str, Any], field: str) -> tuple[float, float] | None:
    """A measurement's figure per inference (``field``: ``energy_j`` or ``duration_s``) and
    its standard error: over its runs' means with ``--repeat``, else over its windows (None
    with fewer than 2)."""
    windows = [w for w in measurement.get("windows", []) if w.get("items")]
    values = [w[field] / w["items"] for w in windows]
    runs = [int(w.get("run", 0)) for w in windows]
    means = np.asarray(means_by_run(values, runs) if len(set(runs)) > 1 else values, dtype=float)
    if means.size < 2 or not np.all(np.isfinite(means)):
        return None
    return float(means.mean()), float(means.std(ddof=1) / math.sqrt(means.size))


def points_of(document: dict[str, Any]) -> list[Point]:
    """Every point one run document gives."""
    code = document.get("provenance") or {}
    common = {
        "machine": str(document.get("machine_id")),
        "run_id": str(document.get("run_id")),
        "created_utc": str(document.get("created_utc")),
        "commit": code.get("commit"),
        "commit_time_utc": code.get("commit_time_utc"),
        "branch": code.get("branch"),
    }
    points: list[Point] = []
    measurements = document.get("measurements") or []
    for m in measurements:
        name = (m.get("variant") or {}).get("name", m["label"])
        for metric, field in (("energy_j", "energy_j"), ("time_s", "duration_s")):
            found = run_mean_se(m, field)
            if found:
                points.append(
                    Point(
                        method=m["method"],
                        variant=name,
                        metric=metric,
                        value=found[0],
                        se=found[1],
                        **common,
                    )
                )
        accuracy = (m.get("variant") or {}).get("accuracy")
        if accuracy and accuracy.get("ci_low") is not None:
            se = (accuracy["ci_high"] - accuracy["ci_low"]) / (2 * 1.959964)
            points.append(
                Point(
                    method=m["method"],
                    variant=name,
                    metric="accuracy",
                    value=float(accuracy["value"]),
                    se=se,
                    **common,
                )
            )
    idle = [
        w["energy_j"] / w["duration_s"]
        for w in document.get("idle_windows") or []
        if w.get("duration_s")
    ]
    if measurements and len(idle) >= 2:
        mean, sd = float(np.mean(idle)), float(np.std(idle, ddof=1))
        points.append(
            Point(
                method=measurements[0]["method"],
                variant=IDLE,
                metric="idle_power_w",
                value=mean,
                se=sd / math.sqrt(len(idle)),
                **common,
            )
        )
    return points


def load_points(paths: Iterable[Path | str]) -> list[Point]:
    """Every point of every run document under ``paths``, in commit order."""
    found: dict[str, dict[str, Any]] = {}
    for path in paths:
        for _, document in documents(path):
            found[str(document.get("run_id"))] = document  # a run read twice counts once
    points = [p for document in found.values() for p in points_of(document)]
    return sorted(points, key=lambda p: p.order)


def series(points: Iterable[Point]) -> dict[SeriesKey, list[Point]]:
    """Points grouped by series, each in commit order."""
    grouped: dict[SeriesKey, list[Point]] = {}
    for point in sorted(points, key=lambda p: p.order):
        grouped.setdefault(point.key, []).append(point)
    return grouped
