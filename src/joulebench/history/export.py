"""The history in the formats dashboards already read: Bencher's metric format, and asv's
results folder, so energy series can live beside a team's time series.

Energy that was estimated or simulated is exported under its own name (``energy_j_estimated``)
in both, never as a measurement.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from joulebench.devices.base import MEASURED_METHODS
from joulebench.history.series import METRIC_UNITS, Point
from joulebench.reports.html import write_text

ASV_RESULT_COLUMNS = [
    "result",
    "params",
    "version",
    "started_at",
    "duration",
    "stats_ci_99_a",
    "stats_ci_99_b",
]
"""asv's results file (API version 2) columns joulebench fills: the value and its 99%
interval (asv's own statistic)."""
ASV_UNITS = {"energy_j": "J", "time_s": "seconds", "accuracy": "fraction", "idle_power_w": "W"}
Z99 = 2.575829


def measure_name(point: Point) -> str:
    """``energy_j``, or ``energy_j_estimated`` where the energy was not measured."""
    if point.method in MEASURED_METHODS or point.metric == "accuracy":
        return point.metric
    return f"{point.metric}_{point.method}"


def bencher_metrics(points: list[Point]) -> dict[str, Any]:
    """Bencher Metric Format of one run's points: ``{benchmark: {measure: {value, lower_value,
    upper_value}}}`` with 95% bounds, in SI units."""
    out: dict[str, Any] = {}
    for p in points:
        half = 1.959964 * p.se
        out.setdefault(p.variant, {})[measure_name(p)] = {
            "value": p.value,
            "lower_value": p.value - half,
            "upper_value": p.value + half,
        }
    return out


def _millis(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).timestamp() * 1000)


def asv_results(points: list[Point], out: Path) -> list[Path]:
    """An asv results folder: ``machine.json`` per machine, one results file per commit and
    energy method (the newest run of it), and ``benchmarks.json`` naming each series as a
    ``track`` benchmark with its unit (``joulebench.<variant>.<measure>``, the variant's name
    reduced to letters, digits, ``_`` and ``-``). Runs without a commit are left out (asv keys
    by commit)."""
    newest: dict[tuple[str, str, str], list[Point]] = {}
    for p in sorted(points, key=lambda p: p.order):
        if p.commit:
            group = newest.setdefault((p.machine, p.commit, p.method), [])
            if group and group[0].run_id != p.run_id:
                group.clear()  # a later run of the same commit replaces the earlier one
            group.append(p)
    written: list[Path] = []
    benchmarks: dict[str, Any] = {}
    for (machine, commit, method), group in newest.items():
        results = {}
        for p in group:
            variant = re.sub(r"[^A-Za-z0-9_-]+", "_", p.variant).strip("_")
            name = f"joulebench.{variant}.{measure_name(p)}"
            results[name] = [
                [p.value],
                [],
                "joulebench",
                _millis(p.created_utc),
                None,
                [p.value - Z99 * p.se],
                [p.value + Z99 * p.se],
            ]
            benchmarks[name] = {
                "name": name,
                "type": "track",
                "unit": ASV_UNITS[p.metric],
                "version": "joulebench",
                "params": [],
                "param_names": [],
                "pretty_name": f"{p.variant} {measure_name(p)} "
                f"({METRIC_UNITS[p.metric][0]} in joulebench)",
            }
        first = group[0]
        data = {
            "commit_hash": commit,
            "env_name": f"joulebench-{method}",
            "date": _millis(first.order[0]),
            "params": {"machine": machine},
            "python": "",
            "requirements": {},
            "env_vars": {},
            "result_columns": ASV_RESULT_COLUMNS,
            "results": results,
            "durations": {},
            "version": 2,
        }
        path = out / machine / f"{commit[:8]}-joulebench-{method}.json"
        written.append(write_text(path, json.dumps(data) + "\n"))
        machine_file = out / machine / "machine.json"
        if not machine_file.exists():
            write_text(machine_file, json.dumps({"machine": machine, "version": 1}) + "\n")
    write_text(out / "benchmarks.json", json.dumps({**benchmarks, "version": 2}) + "\n")
    return written
