"""The history as one offline HTML page: a panel per metric, steps and the gate's window marked.

Each series (machine, variant) is a line of run values with 95% error bars, over the time of
the commit each run measured (the run's own time where it recorded none); a detected step is
a dashed vertical line labelled with its size; the last N runs of each machine, what
``compare --history --last N`` judges the next run against, are shaded. Energy measured by an
estimate or simulation is drawn with hollow markers and says so in its name, as in reports.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from joulebench.devices.base import MEASURED_METHODS
from joulebench.history.series import IDLE, METRIC_UNITS, Point, SeriesKey
from joulebench.history.steps import Step
from joulebench.history.summary import size_text

PANELS = ("energy_j", "time_s", "accuracy", "idle_power_w")
TITLES = {
    "energy_j": "energy per inference (mJ, gross)",
    "time_s": "time per inference (ms)",
    "accuracy": "accuracy (%)",
    "idle_power_w": "idle power (W): a step here is the machine, not the code",
}


def _x(point: Point) -> str:
    return point.order[0]


def history_figure(
    grouped: dict[SeriesKey, list[Point]],
    steps: dict[SeriesKey, list[Step]],
    last: int,
) -> Any:
    """The plotly figure: one row per metric present."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    metrics = [m for m in PANELS if any(key[3] == m for key in grouped)]
    figure = make_subplots(
        rows=len(metrics),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[TITLES[m] for m in metrics],
    )
    several_machines = len({key[0] for key in grouped}) > 1
    for row, metric in enumerate(metrics, start=1):
        _, factor = METRIC_UNITS[metric]
        for key, points in grouped.items():
            if key[3] != metric:
                continue
            machine, method, variant, _ = key
            measured = method in MEASURED_METHODS
            name = variant if variant != IDLE else "idle power"
            name += f" @ {machine}" if several_machines else ""
            name += "" if measured else f" ({method.upper()}, not measured)"
            figure.add_trace(
                go.Scatter(
                    x=[_x(p) for p in points],
                    y=[p.value * factor for p in points],
                    error_y={"type": "data", "array": [1.959964 * p.se * factor for p in points]},
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=row == 1 or metric == "idle_power_w",
                    marker={"symbol": "circle" if measured else "circle-open"},
                    text=[f"{p.short_commit} {p.branch or ''} run {p.run_id}" for p in points],
                    hovertemplate="%{text}<br>%{y:.4g}<extra>" + html.escape(name) + "</extra>",
                ),
                row=row,
                col=1,
            )
            for step in steps.get(key, []):
                after = points[step.index]
                size = size_text(metric, step.size)
                figure.add_vline(
                    x=_x(after),
                    line_dash="dash",
                    line_color="crimson",
                    row=row,
                    col=1,
                    annotation_text=f"{name}: {size}",
                    annotation_font_size=10,
                )
            window = points[-last:]
            if len(window) >= 2:
                figure.add_vrect(
                    x0=_x(window[0]),
                    x1=_x(window[-1]),
                    fillcolor="gray",
                    opacity=0.08,
                    line_width=0,
                    row=row,
                    col=1,
                )
    figure.update_layout(
        height=320 * len(metrics) + 120,
        template="plotly_white",
        title=f"joulebench history (shaded: the last {last} runs, what the "
        "gate compares the next run against)",
    )
    return figure


def history_page(
    grouped: dict[SeriesKey, list[Point]],
    steps: dict[SeriesKey, list[Step]],
    step_rows: Sequence[dict[str, str]],
    last: int,
) -> str:
    """The whole page: the figure (plotly inlined: no network needed) and the steps' table."""
    figure = history_figure(grouped, steps, last)
    table = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row.values()) + "</tr>"
        for row in step_rows
    )
    header = "".join(f"<th>{html.escape(k)}</th>" for k in (step_rows[0] if step_rows else {}))
    steps_html = (
        f"<table><thead><tr>{header}</tr></thead><tbody>{table}</tbody></table>"
        if step_rows
        else "<p>No steps found.</p>"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>joulebench history</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}</style></head><body>"
        + figure.to_html(full_html=False, include_plotlyjs=True, div_id="history")
        + "<h2>Steps</h2>"
        + steps_html
        + "</body></html>"
    )
