"""Interactive plots (plotly). The main one: accuracy against inferences per battery charge.

Every scatter has 95% intervals on both axes where the figure has one, the Pareto frontier of
the means drawn and named (one per device), "possibly optimal" points ringed, colours by
method, markers by backend, and unmeasured (estimated, simulated) energy drawn hollow.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from joulebench.batteries import Battery
from joulebench.devices.base import MEASURED_METHODS
from joulebench.reports.axes import AXES, Axis, resolve
from joulebench.reports.calibrated import calibration_lines
from joulebench.reports.points import (
    COLORS,
    FLAG_MARK,
    FRONTIER,
    POSSIBLY,
    axis_label,
    display,
    flag_codes,
    frontiers,
    is_measured,
    plot_rows,
    point_names,
    point_styles,
    several_devices,
    several_families,
)

__all__ = [
    "COLORS",
    "accuracy_vs_charges",
    "bars",
    "caption_lines",
    "point_names",
    "scatter",
    "several_devices",
]

SYMBOLS = ("circle", "diamond", "square", "triangle-up", "cross", "x", "star", "hexagon")
"""Marker shapes by ``points.Style.shape``."""
COMPONENT_SCOPES = ("package", "package+dram", "board", "process-cpu-time")
ENERGY_AXES = (
    "energy_j", "net_energy_j", "inferences_per_charge", "whole_energy_j",
    "whole_inferences_per_charge",
)  # fmt: skip
"""Axes made from energy: a point whose energy was not measured is drawn hollow on them."""


def score_interval_text(frame: pd.DataFrame) -> str:
    """How the scores' intervals were made, for a caption: Wilson for accuracy, a t interval
    for perplexity, BCa bootstrap for a task's own metric."""
    parts = []
    if "accuracy" in frame and frame["accuracy"].notna().any():
        parts.append("Wilson for accuracy")
    names = set()
    if "score_name" in frame:
        names = set(frame.loc[frame["accuracy"].isna(), "score_name"].dropna())
    if "perplexity" in names and "new_tokens" in frame and frame["new_tokens"].notna().any():
        parts.append("t of log-perplexity over documents for perplexity")
        names.discard("perplexity")
    if names:
        parts.append(f"BCa bootstrap for {', '.join(sorted(names))}")
    return ", ".join(parts) or "no score interval"


def caption_lines(frame: pd.DataFrame, battery: Battery, plot: bool = True) -> list[str]:
    """What the reader must know: how energy was obtained, and what it covers (``plot``: the
    words for a figure, with its markers and error bars; else for a table)."""
    methods = sorted(set(frame["energy_method"]))
    meters = ", ".join(sorted(set(frame["meter"])))
    scopes = ", ".join(sorted(set(frame["scope"])))
    generation = "new_tokens" in frame and frame["new_tokens"].notna().any()
    item = "response (one request's output tokens)" if generation else "inference"
    lines = [
        f"Battery: {battery.describe()}. Energy: gross per {item}, meter {meters}, scope {scopes}."
    ]
    manual = frame[frame["energy_method"] == "manual"] if "manual_form" in frame else frame[:0]
    if len(manual):
        forms = ", ".join(
            f"{form} ({confidence} confidence)"
            for form, confidence in sorted(
                set(zip(manual["manual_form"], manual["confidence"], strict=True))
            )
        )
        lines.append(
            f"Manual meter readings on {', '.join(sorted(set(manual['machine'])))}: {forms}."
        )
    unmeasured = [m for m in methods if m not in MEASURED_METHODS]
    if unmeasured:
        lead = "Hollow markers: energy" if plot else "Energy"
        lines.append(f"{lead} {' and '.join(m.upper() for m in unmeasured)}, NOT measured.")
    if set(frame["scope"]) & set(COMPONENT_SCOPES):
        lines.append(
            "Component-level energy (CPU or GPU only) leaves out the rest of a device: "
            "counts per charge are optimistic."
        )
    lines += calibration_lines(frame)
    lead = "Error bars" if plot else "Intervals"
    kinds = set(frame["energy_interval"]) if "energy_interval" in frame else set()
    energy_interval = "Student t"
    if "stein-two-stage" in kinds:
        energy_interval += ", or Stein's two-stage interval after an adaptive stop"
    if "between-runs" in kinds:
        energy_interval += ", or Student t over the means of independent runs (--repeat)"
    lines.append(
        f"{lead}: statistical 95% ({score_interval_text(frame)}, {energy_interval} for energy; "
        "± is the half-width). The meter's own accuracy is a systematic bound apart from them"
        + (" (the 'meter accuracy' column)." if not plot else ".")
    )
    flagged = sorted({c for codes in frame.get("flags", []) if isinstance(codes, str)
                      for c in codes.split(",") if c})  # fmt: skip
    if plot and flagged:
        lines.append(
            f"{FLAG_MARK} beside a point: its measurement was flagged ({', '.join(flagged)}); "
            "the notes under the report's table say why and what to do."
        )
    if plot:
        lines.append(
            "Pareto frontier on the means (dotted); ringed: possibly optimal, off the "
            "frontier but no variant that beats it on the means is significantly better "
            "(accuracy: McNemar's exact test on the same test examples, where recorded; "
            "other figures: 95% intervals that do not overlap)."
        )
    return lines


def _error(a: Axis, values: tuple[float, float, float]) -> dict[str, Any] | None:
    if not a.has_interval():
        return None
    _, minus, plus = values
    return {"type": "data", "symmetric": False, "array": [plus], "arrayminus": [minus]}


def scatter(
    frame: pd.DataFrame,
    battery: Battery,
    x: str = "inferences_per_charge",
    y: str = "accuracy",
    title: str | None = None,
) -> Any:
    """Any two figures against each other (``x``, ``y``: names in ``reports.axes.AXES``)."""
    import plotly.graph_objects as go

    x_axis, y_axis = resolve(x, frame), resolve(y, frame)
    data = plot_rows(frame, x_axis, y_axis)
    figure = go.Figure()
    styles = point_styles(data)
    families = several_families(data)  # different models: every point is named on the plot
    for index, row in data.iterrows():
        xs, ys = display(x_axis, row), display(y_axis, row)
        energy_shown = x in ENERGY_AXES or y in ENERGY_AXES
        hollow = energy_shown and not is_measured(row)
        style = styles[index]
        symbol = SYMBOLS[style.shape] + ("-open" if hollow else "")
        c = style.color
        named = families and row["pareto"] != FRONTIER  # the frontier's line names its own
        flags = flag_codes(row)
        label = " ".join(
            part for part in (row["point"] if named else "", FLAG_MARK if flags else "") if part
        )
        figure.add_trace(
            go.Scatter(
                x=[xs[0]],
                y=[ys[0]],
                mode="markers+text" if label else "markers",
                text=[label] if label else None,
                textposition="bottom center",
                uid=f"variant-{index}",  # the page's DOM names each variant's trace by it
                name=style.legend,
                marker={"size": 13, "symbol": symbol, "color": c, "line": {"width": 2, "color": c}},
                error_x=_error(x_axis, xs),
                error_y=_error(y_axis, ys),
                hovertemplate=(
                    f"<b>{row['point']}</b><br>{axis_label(y_axis, battery)} %{{y:,.4g}}<br>"
                    f"{axis_label(x_axis, battery)} %{{x:,.4g}}<br>"
                    f"energy {row['energy_j'] * 1000:.3g} mJ/inference ({row['energy_method']})"
                    + (f"<br>{row['pareto']}" if row["pareto"] else "")
                    + (f"<br>{FLAG_MARK} flagged: {', '.join(flags)}" if flags else "")
                    + "<extra></extra>"
                ),
            )
        )
    maybe = data[data["pareto"] == POSSIBLY]
    if len(maybe):
        figure.add_trace(
            go.Scatter(
                x=maybe[x_axis.column] * x_axis.scale,
                y=maybe[y_axis.column] * y_axis.scale,
                mode="markers",
                name="possibly optimal (within noise of the frontier)",
                marker={"size": 26, "symbol": "circle-open", "color": "#888", "line": {"width": 1}},
                hoverinfo="skip",
            )
        )
    for front in frontiers(data, x_axis, y_axis):
        figure.add_trace(
            go.Scatter(
                x=front.rows[x_axis.column] * x_axis.scale,
                y=front.rows[y_axis.column] * y_axis.scale,
                mode="lines+text",
                line={"dash": "dot", "color": "black", "width": 1.5},
                name=f"Pareto frontier{f' ({front.device})' if front.device else ''}",
                text=front.rows["point"],
                textposition="top center",
                hoverinfo="skip",
            )
        )
    y_name = axis_label(y_axis, battery).split(" (")[0]
    x_name = axis_label(x_axis, battery).split(" (")[0]
    meters = ", ".join(sorted(set(data["meter"]))) if len(data) else "none"
    figure.update_layout(
        title={
            "text": title
            or f"{y_name[:1].upper()}{y_name[1:]} vs {x_name}"
            f"<br><sup>{battery.describe()}; meter {meters}</sup>"
        },
        xaxis={"title": axis_label(x_axis, battery), "type": "log" if x_axis.log else "linear"},
        yaxis={"title": axis_label(y_axis, battery), "type": "log" if y_axis.log else "linear"},
        template="plotly_white",
        width=1000,
        height=650,
        legend={"title": "variant (method, backend)"},
        margin={"b": 170},
    )
    if len(data):
        figure.add_annotation(
            text="<br>".join(caption_lines(data, battery)),
            xref="paper",
            yref="paper",
            x=0,
            y=-0.2,
            showarrow=False,
            align="left",
            xanchor="left",
            yanchor="top",
            font={"size": 11},
        )
    return figure


def accuracy_vs_charges(frame: pd.DataFrame, battery: Battery, title: str | None = None) -> Any:
    """The main plot: accuracy (95% Wilson) vs inferences per charge (log x, 95% interval)."""
    return scatter(frame, battery, "inferences_per_charge", "accuracy", title)


BAR_VIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "energy": ("Energy per inference by variant (gross, 95% interval)", ("energy_j",)),
    "memory": ("Memory and size by variant", ("peak_rss_bytes", "model_size_bytes")),
}


def bars(frame: pd.DataFrame, view: str = "energy") -> Any:
    """Bars by variant: ``energy`` (with 95% error bars, hollow if not measured) or ``memory``."""
    import plotly.graph_objects as go

    title, columns = BAR_VIEWS[view]
    data = frame.reset_index(drop=True).copy()
    data["point"] = point_names(data)
    figure = go.Figure()
    for column in columns:
        a = AXES[column]
        values = pd.to_numeric(data[column], errors="coerce")
        shown = data[values.notna()]
        errors = [display(a, row)[1] for _, row in shown.iterrows()] if a.has_interval() else None
        measured = [is_measured(row) for _, row in shown.iterrows()]
        figure.add_trace(
            go.Bar(
                x=shown["point"],
                y=values[values.notna()] * a.scale,
                name=a.label,
                error_y={"type": "data", "array": errors} if errors else None,
                marker={
                    "pattern": {"shape": ["" if m else "/" for m in measured]}
                    if column == "energy_j"
                    else None
                },
            )
        )
    figure.update_layout(
        title={"text": title},
        barmode="group",
        template="plotly_white",
        width=1000,
        height=500,
        yaxis={"title": AXES[columns[0]].label if len(columns) == 1 else "MB"},
    )
    return figure


VIEWS: dict[str, tuple[str, str] | str] = {
    "accuracy-vs-energy": ("energy_j", "accuracy"),
    "accuracy-vs-latency": ("latency_p50_s", "accuracy"),
    "energy": "energy",
    "memory": "memory",
}
"""The report's further figures: name -> (x, y) of a scatter, or a bar view."""


def views_with_data(
    frame: pd.DataFrame, main: tuple[str, str] | None = None
) -> list[tuple[str, tuple[str, str] | str]]:
    """The further views (name, spec) that have data to draw, the main plot's pair left out."""
    out: list[tuple[str, tuple[str, str] | str]] = []
    for name, spec in VIEWS.items():
        if isinstance(spec, tuple):
            pair = (resolve(spec[0], frame), resolve(spec[1], frame))
            if spec == main or plot_rows(frame, *pair).empty:
                continue
        elif all(pd.to_numeric(frame[c], errors="coerce").isna().all() for c in BAR_VIEWS[spec][1]):
            continue
        out.append((name, spec))
    return out
