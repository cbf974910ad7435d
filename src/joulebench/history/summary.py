"""The history in rows: each series' latest value, and the steps found (a step in idle power
is the machine, and a code step beside it says so)."""

from __future__ import annotations

from joulebench.devices.base import MEASURED_METHODS
from joulebench.history.series import IDLE, METRIC_UNITS, RATIO_METRICS, Point, SeriesKey
from joulebench.history.steps import Step, detect_steps
from joulebench.reports.numbers import significant

MACHINE_CHANGE = "machine change (idle power moved)"


def find_steps(grouped: dict[SeriesKey, list[Point]]) -> dict[SeriesKey, list[Step]]:
    """The steps of every series."""
    return {
        key: detect_steps(
            [p.value for p in points], [p.se for p in points], ratio=key[3] in RATIO_METRICS
        )
        for key, points in grouped.items()
    }


def size_text(metric: str, value: float) -> str:
    """A step's size: ``+5.0%`` for a ratio metric, ``-1.2 pt`` for accuracy."""
    if metric in RATIO_METRICS:
        return f"{value:+.1%}"
    return f"{value * 100:+.2g} pt"


def _where(points: list[Point], step: Step) -> tuple[Point, Point]:
    return points[step.index - 1], points[step.index]


def step_rows(
    grouped: dict[SeriesKey, list[Point]], steps: dict[SeriesKey, list[Step]]
) -> list[dict[str, str]]:
    """One row per step, oldest first: where, how big (95% interval), and what moved."""
    machine_moves = {
        (key[0], _where(grouped[key], step)[1].run_id)
        for key, found in steps.items()
        if key[2] == IDLE
        for step in found
    }
    rows = []
    for key, found in steps.items():
        machine, method, variant, metric = key
        for step in found:
            before, after = _where(grouped[key], step)
            if variant == IDLE:
                kind = MACHINE_CHANGE
            elif (machine, after.run_id) in machine_moves:
                kind = "code or machine: idle power moved at the same run"
            else:
                kind = "code"
            rows.append(
                {
                    "machine": machine,
                    "variant": variant,
                    "metric": metric + ("" if method in MEASURED_METHODS else f" ({method})"),
                    "from": f"{before.short_commit} ({before.run_id})",
                    "to": f"{after.short_commit} ({after.run_id})",
                    "step (95% CI)": (
                        f"{size_text(metric, step.size)} [{size_text(metric, step.ci_low)}, "
                        f"{size_text(metric, step.ci_high)}]"
                    ),
                    "z": f"{step.z:+.1f}",
                    "what moved": kind,
                    "_order": after.order[0],
                }
            )
    rows.sort(key=lambda row: row.pop("_order"))
    return rows


def series_rows(
    grouped: dict[SeriesKey, list[Point]], steps: dict[SeriesKey, list[Step]]
) -> list[dict[str, str]]:
    """One row per series: its runs, commits and latest value with its 95% interval."""
    rows = []
    for key, points in grouped.items():
        machine, method, variant, metric = key
        unit, factor = METRIC_UNITS[metric]
        latest = points[-1]
        rows.append(
            {
                "machine": machine,
                "variant": variant,
                "metric": metric,
                "energy method": method if method in MEASURED_METHODS else method.upper(),
                "runs": str(len(points)),
                "commits": f"{points[0].short_commit} .. {latest.short_commit}",
                "latest ± 95% CI": f"{significant(latest.value * factor, 4)} ± "
                f"{significant(1.959964 * latest.se * factor, 2)} {unit}",
                "steps": str(len(steps.get(key, []))),
            }
        )
    return rows
