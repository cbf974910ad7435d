"""The points a plot draws: names, colours, intervals and Pareto marks (no plotting library here).

Shared by the interactive (plotly) and static (matplotlib) plots, so both draw the same thing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from joulebench.batteries import Battery
from joulebench.devices.base import MEASURED_METHODS
from joulebench.reports.axes import Axis, oriented
from joulebench.reports.pareto import SignificantlyBetter, pareto_mask, possibly_optimal_mask
from joulebench.statistics.paired import paired_accuracy
from joulebench.tasks.outcomes import Outcomes

COLORS = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
    "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
)  # fmt: skip
FRONTIER = "frontier"
POSSIBLY = "possibly optimal"
ALPHA = 0.05
PAIRED_AXES = ("accuracy",)
"""Axes whose rows hold per-example outcomes: compared by McNemar's exact test."""


def several_devices(frame: pd.DataFrame) -> bool:
    """True when the frame holds figures from more than one machine or device."""
    return "machine" in frame and frame["machine"].nunique() > 1


def point_names(frame: pd.DataFrame) -> pd.Series:
    """Each row's name on a plot: the variant, with ``@ device`` when several devices appear."""
    if several_devices(frame):
        return frame["variant"] + " @ " + frame["machine"]
    return frame["variant"]


def method_colors(frame: pd.DataFrame) -> dict[str, str]:
    """One colour per compression method, in order of first appearance."""
    methods = list(dict.fromkeys(frame["method"].fillna("?")))
    return {m: COLORS[i % len(COLORS)] for i, m in enumerate(methods)}


BACKEND_SHAPES = {"torch": 0, "onnxruntime": 1}
"""With one model family, a marker's shape is its backend (others: shape 2 and on)."""
SHAPES = 8
"""Distinct marker shapes each plotting library draws (plots.SYMBOLS, static.MARKERS)."""


@dataclass(frozen=True)
class Style:
    """How one point is drawn: colour, marker shape (an index into the library's shapes) and
    its legend entry."""

    color: str
    shape: int
    legend: str


def several_families(frame: pd.DataFrame) -> bool:
    """True when the points come from more than one model family."""
    return "family" in frame and frame["family"].dropna().nunique() > 1


def point_styles(data: pd.DataFrame) -> dict[object, Style]:
    """Each row's style. One family: colour by method, shape by backend. Several families
    (different models on one plot): colour by family, shape by method, so the legend tells
    families apart and a method looks the same in each."""
    if several_families(data):
        families = list(dict.fromkeys(data["family"].fillna("?")))
        methods = list(dict.fromkeys(data["method"].fillna("?")))
        return {
            index: Style(
                COLORS[families.index(row["family"] or "?") % len(COLORS)],
                methods.index(row["method"] or "?") % SHAPES,
                f"{row['point']} ({row['family'] or '?'}: {row['method']}, {row['backend']})",
            )
            for index, row in data.iterrows()
        }
    colors = method_colors(data) if len(data) else {}
    backends = list(dict.fromkeys(b for b in data.get("backend", []) if b not in BACKEND_SHAPES))
    shape = {**{b: (2 + i) % SHAPES for i, b in enumerate(backends)}, **BACKEND_SHAPES}
    seen: dict[tuple[str, str], int] = {}
    styles = {}
    for index, row in data.iterrows():
        # two variants of one method and back-end (LoRA merged and not) get other shapes
        key = (str(row["method"] or "?"), str(row["backend"]))
        repeat = seen.get(key, 0)
        seen[key] = repeat + 1
        styles[index] = Style(
            colors[row["method"] or "?"],
            (shape.get(row["backend"], 2) + 3 * repeat) % SHAPES,
            f"{row['point']} ({row['method']}, {row['backend']})",
        )
    return styles


def is_measured(row: pd.Series) -> bool:
    """True when the row's energy was measured (drawn filled; else hollow)."""
    return row["energy_method"] in MEASURED_METHODS


def axis_label(a: Axis, battery: Battery) -> str:
    """The axis title, with the battery's name filled in and the scale said."""
    label = a.label.replace("{battery}", battery.name)
    return f"{label} (log scale)" if a.log else label


def display(a: Axis, row: pd.Series) -> tuple[float, float, float]:
    """(value, minus, plus) in display units, for error bars (an infinite end drawn at 10x)."""
    value = float(row[a.column])
    low, high = a.bounds(row)
    if math.isinf(high):
        high = value * 10
    return value * a.scale, (value - low) * a.scale, (high - value) * a.scale


def _intervals(a: Axis, group: pd.DataFrame) -> list[tuple[float, float, float]]:
    out = []
    for _, row in group.iterrows():
        low, high = a.bounds(row)
        value = float(row[a.column])
        ends = sorted((oriented(a, low), oriented(a, high)))
        out.append((oriented(a, value), ends[0], ends[1]))
    return out


def pareto_marks(frame: pd.DataFrame, x: Axis, y: Axis) -> pd.Series:
    """``frontier``, ``possibly optimal`` or ``""`` for every row (per device), by x and y.

    The frontier is computed on the means; "possibly optimal" rows are off it, but no row that
    dominates them on the means is significantly better on either figure: accuracy by
    McNemar's exact test on the examples both were scored on (when both rows hold outcomes of
    the same test set), other figures by 95% intervals that do not overlap. Rows lacking x or
    y get ``""``.
    """
    marks = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    if frame.empty:
        return marks
    groups = frame.groupby("machine") if several_devices(frame) else [(None, frame)]
    for _, group in groups:
        data = group[[_has(row, x) and _has(row, y) for _, row in group.iterrows()]]
        if data.empty:
            continue
        xs, ys = _intervals(x, data), _intervals(y, data)
        front = pareto_mask([v[0] for v in xs], [v[0] for v in ys])
        possibly = possibly_optimal_mask(
            xs, ys, x_better=paired_better(data, x), y_better=paired_better(data, y)
        )
        for index, on_front, maybe in zip(data.index, front, possibly, strict=True):
            marks[index] = FRONTIER if on_front else POSSIBLY if maybe else ""
    return marks


FLAG_MARK = "⚠"
"""Drawn beside a point whose measurement carries flags (the notes under the table say why)."""


def flag_codes(row: pd.Series) -> list[str]:
    """The flag codes a frame row carries."""
    codes = row.get("flags")
    return [c for c in str(codes).split(",") if c] if isinstance(codes, str) else []


def row_outcomes(row: pd.Series) -> Outcomes | None:
    """The per-example outcomes a frame row holds (None for older results or other tasks)."""
    bits, test_set, n = row.get("outcomes"), row.get("test_set"), row.get("accuracy_n")
    if not isinstance(bits, str) or not isinstance(test_set, str) or n is None or pd.isna(n):
        return None
    return Outcomes.from_dict({"kind": "correct", "n": int(n), "bits": bits, "test_set": test_set})


def paired_better(data: pd.DataFrame, a: Axis) -> SignificantlyBetter | None:
    """For an accuracy axis: ``better(j, i)`` by McNemar's exact test (j more accurate with
    p < 0.05); None for a pair without outcomes of one test set. For other axes None."""
    accuracy_as_score = (
        a.column == "score" and "score_name" in data and (data["score_name"] == "accuracy").all()
    )
    if a.column not in PAIRED_AXES and not accuracy_as_score:
        return None
    outcomes = [row_outcomes(row) for _, row in data.iterrows()]
    if all(o is None for o in outcomes):
        return None

    def better(j: int, i: int) -> bool | None:
        oj, oi = outcomes[j], outcomes[i]
        if oj is None or oi is None or not oj.pairs_with(oi):
            return None
        paired = paired_accuracy(oi.correct, oj.correct)  # j - i
        return paired.difference > 0 and paired.p_value < ALPHA

    return better


def _has(row: pd.Series, a: Axis) -> bool:
    value = row.get(a.column)
    return value is not None and not pd.isna(value) and math.isfinite(float(value))


@dataclass(frozen=True)
class Frontier:
    """One device's frontier, sorted along x, for drawing as a line."""

    device: str | None
    rows: pd.DataFrame


def frontiers(data: pd.DataFrame, x: Axis, y: Axis) -> list[Frontier]:
    """The frontier rows of ``data`` (which has a ``pareto`` column), one line per device."""
    front = data[data["pareto"] == FRONTIER]
    if front.empty:
        return []
    if several_devices(data):
        return [Frontier(str(d), g.sort_values(x.column)) for d, g in front.groupby("machine")]
    return [Frontier(None, front.sort_values(x.column))]


def plot_rows(frame: pd.DataFrame, x: Axis, y: Axis) -> pd.DataFrame:
    """The rows that have both figures, with ``point`` names and ``pareto`` marks added."""
    data = frame[[_has(r, x) and _has(r, y) for _, r in frame.iterrows()]].reset_index(drop=True)
    data = data.copy()
    data["point"] = point_names(data) if len(data) else pd.Series(dtype=object)
    data["pareto"] = pareto_marks(data, x, y)
    return data
