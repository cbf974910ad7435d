"""Static figures (PNG, SVG) drawn with matplotlib (Agg): no browser needed.

plotly's own image export (kaleido) needs a Chrome that a fresh, offline machine may not have;
matplotlib draws the same pictures with nothing outside Python, so static images always work.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd

from joulebench.batteries import Battery
from joulebench.reports.axes import AXES, resolve
from joulebench.reports.plots import BAR_VIEWS, ENERGY_AXES, caption_lines, views_with_data
from joulebench.reports.points import (
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
    several_families,
)

MARKERS = ("o", "D", "s", "^", "P", "X", "*", "h")
"""Marker shapes by ``points.Style.shape`` (the same order as ``plots.SYMBOLS``)."""
EXPORTER = "matplotlib (Agg)"
FRONTIER_STYLES = (":", "--", "-.")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _minor_label(value: float, _: int) -> str:
    """Label only the 2x and 5x minor ticks of a log axis, so labels never overlap."""
    if value <= 0:
        return ""
    leading = round(value / 10 ** math.floor(math.log10(value)))
    return f"{value:,.0f}" if leading in (2, 5) else ""


def _log_ticks(axis: Any, low: float, high: float) -> None:
    from matplotlib.ticker import FuncFormatter

    counts = FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:.2g}")
    axis.set_major_formatter(counts)
    # every minor label fits only within about half a decade: beyond, 800,000, 900,000 and
    # 1,000,000 run into each other, so only the 2x and 5x ticks are labelled
    narrow = high / low < 4 if low > 0 else False
    axis.set_minor_formatter(counts if narrow else FuncFormatter(_minor_label))


def _save(figure: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format=path.suffix.lstrip("."))
    _pyplot().close(figure)
    return path


def save_scatter(
    frame: pd.DataFrame,
    battery: Battery,
    path: Path,
    x: str = "inferences_per_charge",
    y: str = "accuracy",
) -> Path:
    """Any two figures against each other, as the interactive scatter draws them."""
    plt = _pyplot()
    x_axis, y_axis = resolve(x, frame), resolve(y, frame)
    data = plot_rows(frame, x_axis, y_axis)
    styles = point_styles(data)
    figure, axes = plt.subplots(figsize=(13, 6.5), dpi=120)
    energy_shown = x in ENERGY_AXES or y in ENERGY_AXES
    for index, row in data.iterrows():
        xv, x_minus, x_plus = display(x_axis, row)
        yv, y_minus, y_plus = display(y_axis, row)
        style = styles[index]
        c = style.color
        hollow = energy_shown and not is_measured(row)
        axes.errorbar(
            xv,
            yv,
            xerr=[[x_minus], [x_plus]] if x_axis.has_interval() else None,
            yerr=[[y_minus], [y_plus]] if y_axis.has_interval() else None,
            fmt=MARKERS[style.shape],
            markersize=10,
            color=c,
            capsize=4,
            markerfacecolor="white" if hollow else c,
            markeredgewidth=2,
            label=style.legend,
        )
        if flag_codes(row):  # flagged: the notes under the report's table say why
            axes.annotate(FLAG_MARK, (xv, yv), textcoords="offset points", xytext=(8, 6),
                          fontsize=11, color="#c05000")  # fmt: skip
    if several_families(data):  # different models: name every point, not only the frontier's
        for _, row in data[data["pareto"] != FRONTIER].iterrows():
            axes.annotate(
                row["point"],
                (row[x_axis.column] * x_axis.scale, row[y_axis.column] * y_axis.scale),
                textcoords="offset points",
                xytext=(0, -16),
                ha="center",
                fontsize=8,
                color="#444",
            )
    maybe = data[data["pareto"] == POSSIBLY]
    if len(maybe):
        axes.scatter(
            maybe[x_axis.column] * x_axis.scale,
            maybe[y_axis.column] * y_axis.scale,
            s=550,
            facecolors="none",
            edgecolors="#888",
            linestyles="--",
            label="possibly optimal (within noise of the frontier)",
        )
    for index, front in enumerate(frontiers(data, x_axis, y_axis)):
        axes.plot(
            front.rows[x_axis.column] * x_axis.scale,
            front.rows[y_axis.column] * y_axis.scale,
            FRONTIER_STYLES[index % len(FRONTIER_STYLES)],
            color="black",
            label=f"Pareto frontier{f' ({front.device})' if front.device else ''}",
        )
        for _, row in front.rows.iterrows():
            axes.annotate(
                row["point"],
                (row[x_axis.column] * x_axis.scale, row[y_axis.column] * y_axis.scale),
                textcoords="offset points",
                xytext=(0, 12),
                ha="center",
                fontsize=9,
            )
    axes.margins(x=0.12, y=0.08)  # room for the frontier's labels at the edges
    for a, setter, getter, axis in (
        (x_axis, axes.set_xscale, axes.get_xlim, axes.xaxis),
        (y_axis, axes.set_yscale, axes.get_ylim, axes.yaxis),
    ):
        if a.log and len(data):
            setter("log")
            _log_ticks(axis, *getter())
    if x_axis.log:
        axes.tick_params(axis="x", which="minor", labelsize=7)
    axes.set_xlabel(axis_label(x_axis, battery))
    axes.set_ylabel(axis_label(y_axis, battery))
    meters = ", ".join(sorted(set(data["meter"]))) if len(data) else "none"
    y_name = axis_label(y_axis, battery).split(" (")[0]
    x_name = axis_label(x_axis, battery).split(" (")[0]
    axes.set_title(
        f"{y_name[:1].upper()}{y_name[1:]} vs {x_name}\n{battery.describe()}; meter {meters}",
        fontsize=11,
    )
    axes.grid(True, which="both", alpha=0.3)
    bottom = 0.14
    if len(data):
        # beside the plot, never over the points
        axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        note = "\n".join(textwrap.fill(line, 130) for line in caption_lines(data, battery))
        figure.text(0.01, 0.01, note, fontsize=7.5, va="bottom", ha="left")
        # room below the axes for every line of the note (a 7.5 pt line is 2% of the height)
        bottom = min(0.45, 0.03 + 0.021 * (note.count("\n") + 1))
    figure.tight_layout(rect=(0, bottom, 1, 1))
    return _save(figure, path)


def save_main_plot(frame: pd.DataFrame, battery: Battery, path: Path) -> Path:
    """Accuracy vs inferences per charge (log x), 95% intervals, frontier, hollow estimates."""
    return save_scatter(frame, battery, path, "inferences_per_charge", "accuracy")


def save_bars(frame: pd.DataFrame, view: str, path: Path) -> Path:
    """Bars by variant: ``energy`` (95% error bars; hatched when not measured) or ``memory``."""
    plt = _pyplot()
    title, columns = BAR_VIEWS[view]
    data = frame.reset_index(drop=True).copy()
    data["point"] = point_names(data)
    figure, axes = plt.subplots(figsize=(10, 5), dpi=120)
    width = 0.8 / len(columns)
    positions = list(range(len(data)))
    for index, column in enumerate(columns):
        a = AXES[column]
        values = pd.to_numeric(data[column], errors="coerce")
        offsets = [p + (index - (len(columns) - 1) / 2) * width for p in positions]
        errors = None
        if a.has_interval():
            errors = [
                display(a, row)[1] if pd.notna(values[i]) else 0 for i, row in data.iterrows()
            ]
        drawn = axes.bar(
            offsets,
            values.fillna(0) * a.scale,
            width,
            yerr=errors,
            capsize=4,
            label=a.label,
        )
        if column == "energy_j":
            for bar, (_, row) in zip(drawn, data.iterrows(), strict=True):
                if not is_measured(row):
                    bar.set_hatch("//")
                    bar.set_facecolor("white")
                    bar.set_edgecolor("#1f77b4")
    axes.set_xticks(positions)
    axes.set_xticklabels(data["point"], rotation=20, ha="right", fontsize=9)
    axes.set_ylabel(AXES[columns[0]].label if len(columns) == 1 else "MB")
    axes.set_title(title, fontsize=11)
    axes.grid(True, axis="y", alpha=0.3)
    if len(columns) > 1:
        axes.legend(fontsize=8)
    if view == "energy" and not all(is_measured(r) for _, r in data.iterrows()):
        figure.text(
            0.01, 0.01, "Hatched bars: energy ESTIMATED or SIMULATED, NOT measured.", fontsize=8
        )
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return _save(figure, path)


def save_views(
    frame: pd.DataFrame,
    battery: Battery,
    stem: Path,
    suffix: str,
    main: tuple[str, str] | None = None,
) -> list[Path]:
    """Every further view as ``<stem>-<view>.<suffix>``; a view with no data is left out."""
    paths = []
    for name, spec in views_with_data(frame, main):
        path = stem.parent / f"{stem.name}-{name}.{suffix}"
        if isinstance(spec, tuple):
            paths.append(save_scatter(frame, battery, path, *spec))
        else:
            paths.append(save_bars(frame, spec, path))
    return paths
