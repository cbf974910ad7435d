"""Tables of every figure, formatted for people (values in readable units, ± 95%)."""

from __future__ import annotations

import math

import pandas as pd

from joulebench.reports.axes import AXES
from joulebench.reports.points import pareto_marks, several_devices


def _plus_minus(value: float | None, ci: float | None, scale: float, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return (
        f"{value * scale:.{digits}g} ± {ci * scale:.2g}"
        if ci is not None
        else f"{value * scale:.{digits}g}"
    )


def _count(value: float) -> str:
    return "∞" if value == math.inf else f"{value:,.0f}"


def energy_method_text(row: pd.Series) -> str:
    """``counter``, ``estimated``, or for a person's meter ``manual: log (medium confidence)``."""
    form = row.get("manual_form")
    if row["energy_method"] == "manual" and isinstance(form, str):
        return f"manual: {form} ({row.get('confidence')} confidence)"
    return str(row["energy_method"])


def figures_table(
    frame: pd.DataFrame, x: str = "inferences_per_charge", y: str = "accuracy"
) -> pd.DataFrame:
    """One row per variant: accuracy, energy (method), latency, memory, size, charges, and
    whether it is on the Pareto frontier of ``x`` and ``y`` (or possibly optimal)."""
    rows = []
    several = several_devices(frame)
    marks = pareto_marks(frame, AXES[x], AXES[y])
    compressed = "compressed_size_bytes" in frame and frame["compressed_size_bytes"].notna().any()
    for index, r in frame.iterrows():
        accuracy = (
            (
                f"{r['accuracy'] * 100:.1f}% [{r['accuracy_ci_low'] * 100:.1f}, "
                f"{r['accuracy_ci_high'] * 100:.1f}]"
            )
            if pd.notna(r.get("accuracy"))
            else "—"
        )
        device = {"device": r["machine"]} if several else {}
        rows.append(
            {
                "variant": r["variant"],
                **device,
                "method": r.get("method") or "—",
                "backend": r.get("backend") or "—",
                "accuracy (95% CI)": accuracy,
                "energy mJ/inference": _plus_minus(r["energy_j"], r["energy_j_ci95"], 1000),
                "net mJ/inference": _plus_minus(
                    r.get("net_energy_j"), r.get("net_energy_j_ci95"), 1000
                ),
                "energy method": energy_method_text(r),
                "latency p50 ms": _plus_minus(r.get("latency_p50_s"), None, 1000),
                "peak RSS MB": _plus_minus(r.get("peak_rss_bytes"), None, 1e-6),
                "params M": _plus_minus(r.get("params"), None, 1e-6),
                "size MB": _plus_minus(r.get("model_size_bytes"), None, 1e-6),
                **(
                    {"compressed MB": _plus_minus(r.get("compressed_size_bytes"), None, 1e-6)}
                    if compressed
                    else {}
                ),
                f"inferences per {r['battery']} charge": (
                    f"{_count(r['inferences_per_charge'])} "
                    f"[{_count(r['inferences_per_charge_low'])}, "
                    f"{_count(r['inferences_per_charge_high'])}]"
                ),
                "Pareto": marks[index] or "—",
            }
        )
    return pd.DataFrame(rows)
