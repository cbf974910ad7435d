"""The main plot as PNG or SVG, drawn with matplotlib (Agg): no browser needed.

plotly's own image export (kaleido) needs a Chrome that a fresh, offline machine may not have;
matplotlib draws the same picture with nothing outside Python, so static images always work.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pandas as pd

from joulebench.batteries import Battery
from joulebench.devices.base import MEASURED_METHODS
from joulebench.reports.plots import COLORS, caption_lines, frontiers, point_names

MARKERS = {"torch": "o", "onnxruntime": "D", None: "s"}
EXPORTER = "matplotlib (Agg)"


FRONTIER_STYLES = (":", "--", "-.")


def _minor_label(value: float, _: int) -> str:
    """Label only the 2x and 5x minor ticks of a log axis, so labels never overlap."""
    if value <= 0:
        return ""
    leading = round(value / 10 ** math.floor(math.log10(value)))
    return f"{value:,.0f}" if leading in (2, 5) else ""


def save_main_plot(frame: pd.DataFrame, battery: Battery, path: Path) -> Path:
    """Accuracy vs inferences per charge (log x), 95% intervals, frontier, hollow estimates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    data = frame.dropna(subset=["accuracy", "inferences_per_charge"]).reset_index(drop=True)
    data["point"] = point_names(data)
    methods = list(dict.fromkeys(data["method"].fillna("?")))
    color = {m: COLORS[i % len(COLORS)] for i, m in enumerate(methods)}
    figure, axes = plt.subplots(figsize=(10, 6.5), dpi=120)
    for _, row in data.iterrows():
        x, y = row["inferences_per_charge"], row["accuracy"] * 100
        high = row["inferences_per_charge_high"]
        high = x * 10 if high == math.inf else high
        c = color[row["method"] or "?"]
        measured = row["energy_method"] in MEASURED_METHODS
        axes.errorbar(
            x,
            y,
            xerr=[[x - row["inferences_per_charge_low"]], [high - x]],
            yerr=[[y - row["accuracy_ci_low"] * 100], [row["accuracy_ci_high"] * 100 - y]],
            fmt=MARKERS.get(row["backend"], "s"),
            markersize=10,
            color=c,
            capsize=4,
            markerfacecolor=c if measured else "white",
            markeredgewidth=2,
            label=f"{row['point']} ({row['method']}, {row['backend']})",
        )
    for index, (device, front) in enumerate(frontiers(data)):
        axes.plot(
            front["inferences_per_charge"],
            front["accuracy"] * 100,
            FRONTIER_STYLES[index % len(FRONTIER_STYLES)],
            color="black",
            label=f"Pareto frontier{f' ({device})' if device else ''}",
        )
        for _, row in front.iterrows():
            axes.annotate(
                row["point"],
                (row["inferences_per_charge"], row["accuracy"] * 100),
                textcoords="offset points",
                xytext=(0, 12),
                ha="center",
                fontsize=9,
            )
    axes.set_xscale("log")
    counts = FuncFormatter(lambda value, _: f"{value:,.0f}")
    axes.xaxis.set_major_formatter(counts)
    low, high = axes.get_xlim()
    narrow = high / low < 30  # under ~1.5 decades every minor tick has room for its label
    axes.xaxis.set_minor_formatter(counts if narrow else FuncFormatter(_minor_label))
    axes.tick_params(axis="x", which="minor", labelsize=7)
    axes.set_xlabel(f"inferences per {battery.name} charge (log scale)")
    axes.set_ylabel("accuracy (%)")
    meters = ", ".join(sorted(set(data["meter"])))
    axes.set_title(
        f"Accuracy vs inferences per {battery.name} charge\n{battery.describe()}; meter {meters}",
        fontsize=11,
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="best")
    note = "\n".join(textwrap.fill(line, 130) for line in caption_lines(data, battery))
    figure.text(0.01, 0.01, note, fontsize=7.5, va="bottom", ha="left")
    figure.tight_layout(rect=(0, 0.12, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format=path.suffix.lstrip("."))
    plt.close(figure)
    return path
