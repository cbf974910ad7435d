"""Plots (plotly). The main one: accuracy against inferences per battery charge."""

from __future__ import annotations

from typing import Any

import pandas as pd

from joulebench.batteries import Battery
from joulebench.devices.base import MEASURED_METHODS
from joulebench.reports.pareto import pareto_mask

SYMBOLS = {"torch": "circle", "onnxruntime": "diamond", None: "square"}
COLORS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
)
COMPONENT_SCOPES = ("package", "package+dram", "board", "process-cpu-time")


def caption_lines(frame: pd.DataFrame, battery: Battery, plot: bool = True) -> list[str]:
    """What the reader must know: how energy was obtained, and what it covers (``plot``: the
    words for a figure, with its markers and error bars; else for a table)."""
    methods = sorted(set(frame["energy_method"]))
    meters = ", ".join(sorted(set(frame["meter"])))
    scopes = ", ".join(sorted(set(frame["scope"])))
    lines = [
        f"Battery: {battery.describe()}. Energy: gross per inference, meter {meters}, "
        f"scope {scopes}."
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
    lead = "Error bars" if plot else "Intervals"
    lines.append(f"{lead}: 95% (Wilson for accuracy, Student t for energy; ± is the half-width).")
    return lines


def several_devices(frame: pd.DataFrame) -> bool:
    """True when the frame holds figures from more than one machine or device."""
    return "machine" in frame and frame["machine"].nunique() > 1


def point_names(frame: pd.DataFrame) -> pd.Series:
    """Each row's name on a plot: the variant, with ``@ device`` when several devices appear."""
    if several_devices(frame):
        return frame["variant"] + " @ " + frame["machine"]
    return frame["variant"]


def frontiers(data: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """The Pareto frontier of accuracy vs inferences per charge, one per device.

    Energy on a phone and on a laptop answer different questions (which variant for *this*
    device), so with several devices each gets its own frontier, named after it.
    """
    groups = list(data.groupby("machine")) if several_devices(data) else [(None, data)]
    out = []
    for device, group in groups:
        mask = pareto_mask(list(group["inferences_per_charge"]), list(group["accuracy"]))
        front = group[mask].sort_values("inferences_per_charge")
        if len(front):
            out.append((device, front))
    return out


def caption(frame: pd.DataFrame, battery: Battery) -> str:
    """The caption lines joined for a plotly annotation."""
    return "<br>".join(caption_lines(frame, battery))


def accuracy_vs_charges(frame: pd.DataFrame, battery: Battery, title: str | None = None) -> Any:
    """Accuracy (95% Wilson) vs inferences per charge (log x, 95% interval), frontier marked."""
    import plotly.graph_objects as go

    data = frame.dropna(subset=["accuracy", "inferences_per_charge"]).reset_index(drop=True)
    data["point"] = point_names(data)
    figure = go.Figure()
    methods = list(dict.fromkeys(data["method"].fillna("?")))
    color = {m: COLORS[i % len(COLORS)] for i, m in enumerate(methods)}
    for _, row in data.iterrows():
        measured = row["energy_method"] in MEASURED_METHODS
        symbol = SYMBOLS.get(row["backend"], "square") + ("" if measured else "-open")
        high = row["inferences_per_charge_high"]
        figure.add_trace(
            go.Scatter(
                x=[row["inferences_per_charge"]],
                y=[row["accuracy"] * 100],
                mode="markers",
                name=f"{row['point']} ({row['method']}, {row['backend']})",
                marker={
                    "size": 13,
                    "symbol": symbol,
                    "color": color[row["method"] or "?"],
                    "line": {"width": 2, "color": color[row["method"] or "?"]},
                },
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        (high if high != float("inf") else row["inferences_per_charge"] * 10)
                        - row["inferences_per_charge"]
                    ],
                    "arrayminus": [row["inferences_per_charge"] - row["inferences_per_charge_low"]],
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [(row["accuracy_ci_high"] - row["accuracy"]) * 100],
                    "arrayminus": [(row["accuracy"] - row["accuracy_ci_low"]) * 100],
                },
                hovertemplate=(
                    f"<b>{row['point']}</b><br>accuracy %{{y:.1f}}%<br>"
                    "inferences per charge %{x:,.0f}<br>"
                    f"energy {row['energy_j'] * 1000:.3g} mJ/inference "
                    f"({row['energy_method']})<extra></extra>"
                ),
            )
        )
    for device, front in frontiers(data):
        figure.add_trace(
            go.Scatter(
                x=front["inferences_per_charge"],
                y=front["accuracy"] * 100,
                mode="lines+text",
                line={"dash": "dot", "color": "black", "width": 1.5},
                name=f"Pareto frontier{f' ({device})' if device else ''}",
                text=front["point"],
                textposition="top center",
                hoverinfo="skip",
            )
        )
    figure.update_layout(
        title={
            "text": title
            or f"Accuracy vs inferences per {battery.name} charge"
            f"<br><sup>{battery.describe()}; meter {', '.join(sorted(set(data['meter'])))}</sup>"
        },
        xaxis={"title": f"inferences per {battery.name} charge (log scale)", "type": "log"},
        yaxis={"title": "accuracy (%)"},
        template="plotly_white",
        width=1000,
        height=650,
        legend={"title": "variant (method, backend)"},
        margin={"b": 150},
    )
    figure.add_annotation(
        text=caption(data, battery),
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
