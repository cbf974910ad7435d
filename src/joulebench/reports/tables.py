"""Tables of every figure, formatted for people (values in readable units, ± 95%)."""

from __future__ import annotations

import math

import pandas as pd

from joulebench.reports.axes import resolve
from joulebench.reports.numbers import plus_minus, significant
from joulebench.reports.points import pareto_marks, several_devices, several_families
from joulebench.results.frame import EXTRA


def _plus_minus(value: float | None, ci: float | None, scale: float, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if ci is None or (isinstance(ci, float) and math.isnan(ci)):
        return significant(value * scale, digits)
    return plus_minus(value * scale, ci * scale, digits)


def _systematic(row: pd.Series) -> str:
    """The meter's own accuracy bound on the gross figure (mJ), or 'not stated'."""
    bound = row.get("energy_j_systematic")
    if bound is None or pd.isna(bound):
        return "not stated"
    share = bound / row["energy_j"] if row.get("energy_j") else None
    return f"±{significant(bound * 1000, 2)}" + (f" ({share:.0%})" if share is not None else "")


def _latency(row: pd.Series) -> str:
    """``620 (n=45, batch 32)``: the median batch time with the batches behind it."""
    value = row.get("latency_p50_s")
    if value is None or pd.isna(value):
        return "—"
    samples = row.get("latency_samples")
    if samples is None or pd.isna(samples):
        return significant(value * 1000)
    return f"{significant(value * 1000)} (n={int(samples)}, batch {int(row['batch_size'])})"


def _count(value: float) -> str:
    return "∞" if value == math.inf else f"{value:,.0f}"


def energy_method_text(row: pd.Series) -> str:
    """``counter``, ``estimated``, or for a person's meter ``manual: log (medium confidence)``."""
    form = row.get("manual_form")
    if row["energy_method"] == "manual" and isinstance(form, str):
        return f"manual: {form} ({row.get('confidence')} confidence)"
    return str(row["energy_method"])


def _percent(row: pd.Series, column: str) -> str:
    value = row.get(column)
    if value is None or pd.isna(value):
        return "—"
    low, high = row[f"{column}_ci_low"], row[f"{column}_ci_high"]
    return f"{value * 100:.1f}% [{low * 100:.1f}, {high * 100:.1f}]"


def _score(row: pd.Series) -> str:
    value = row.get("score")
    if value is None or pd.isna(value):
        return "—"
    if row["score_low"] == value == row["score_high"]:
        return f"{significant(value, 4)} (no interval)"
    low, high = significant(row["score_low"], 4), significant(row["score_high"], 4)
    return f"{significant(value, 4)} [{low}, {high}]"


def _score_columns(frame: pd.DataFrame, r: pd.Series) -> dict[str, str]:
    """Accuracy (and top-5) for classifiers; a task's own metric, named, for the others."""
    out: dict[str, str] = {}
    if frame["accuracy"].notna().any():
        out["accuracy (95% CI)"] = _percent(r, "accuracy")
    if "top5_accuracy" in frame and frame["top5_accuracy"].notna().any():
        out["top-5 (95% CI)"] = _percent(r, "top5_accuracy")
    if "score" in frame:
        own = frame[frame["accuracy"].isna() & frame["score"].notna()]
        for name in dict.fromkeys(own["score_name"]):
            out[f"{name} (95% CI)"] = _score(r) if r.get("score_name") == name else "—"
    for column in frame.columns:
        if column.startswith(EXTRA) and not column.endswith(("_low", "_high")):
            out[f"{column.removeprefix(EXTRA)} (95% CI)"] = _interval(
                r.get(column), r.get(f"{column}_low"), r.get(f"{column}_high")
            )
    return out


def _interval(value: float | None, low: float | None, high: float | None) -> str:
    if value is None or pd.isna(value):
        return "—"
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return f"{significant(value, 4)} (no interval)"
    return f"{significant(value, 4)} [{significant(low, 4)}, {significant(high, 4)}]"


def _calibrated_columns(r: pd.Series) -> dict[str, str]:
    """Whole-device (calibrated) energy and charges, "—" where the row was not calibrated."""
    energy = r.get("whole_energy_j")
    charges = f"inferences per {r['battery']} charge (whole device, calibrated)"
    if energy is None or pd.isna(energy):
        return {"whole device mJ/inference (calibrated)": "—", charges: "—"}
    return {
        "whole device mJ/inference (calibrated)": _plus_minus(
            energy, r["whole_energy_j_ci95"], 1000
        ),
        charges: (
            f"{_count(r['whole_inferences_per_charge'])} "
            f"[{_count(r['whole_inferences_per_charge_low'])}, "
            f"{_count(r['whole_inferences_per_charge_high'])}]"
        ),
    }


def _ms(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else significant(value * 1000)


def _generation_columns(r: pd.Series) -> dict[str, str]:
    """A generation variant's per-token energy, TTFT and TPOT, tokens/s and tokens per charge."""
    if r.get("new_tokens") is None or pd.isna(r.get("new_tokens")):
        return dict.fromkeys(GENERATION_HEADERS, "—")
    values = (
        _plus_minus(r.get("decode_token_j"), r.get("decode_token_j_ci95"), 1000),
        _plus_minus(r.get("prefill_token_j"), r.get("prefill_token_j_ci95"), 1000),
        f"{_ms(r.get('ttft_p50_s'))} / {_ms(r.get('ttft_p95_s'))}",
        f"{_ms(r.get('tpot_p50_s'))} / {_ms(r.get('tpot_p95_s'))}",
        _plus_minus(r.get("output_tokens_per_s"), None, 1.0),
        f"{int(r['prompt_tokens'])} -> {int(r['new_tokens'])}",
        "—" if pd.isna(r.get("tokens_per_charge")) else _count(r["tokens_per_charge"]),
    )
    return dict(zip(GENERATION_HEADERS, values, strict=True))


GENERATION_HEADERS = (
    "mJ/output token ± 95% CI",
    "mJ/prompt token ± 95% CI",
    "TTFT p50/p95 ms",
    "TPOT p50/p95 ms",
    "output tokens/s",
    "tokens in -> out",
    "tokens per charge",
)


def figures_table(
    frame: pd.DataFrame, x: str = "inferences_per_charge", y: str = "accuracy"
) -> pd.DataFrame:
    """One row per variant: accuracy (top-5, or the task's own metric), energy (method),
    latency, memory, size, charges, and whether it is on the Pareto frontier of ``x`` and
    ``y`` (or possibly optimal); a family column when different models are compared."""
    rows = []
    several = several_devices(frame)
    marks = pareto_marks(frame, resolve(x, frame), resolve(y, frame))
    compressed = "compressed_size_bytes" in frame and frame["compressed_size_bytes"].notna().any()
    families = several_families(frame)
    calibrated = "whole_energy_j" in frame and frame["whole_energy_j"].notna().any()
    generation = "new_tokens" in frame and frame["new_tokens"].notna().any()
    item = "request" if generation else "inference"
    charges = "responses" if generation else "inferences"
    for index, r in frame.iterrows():
        device = {"device": r["machine"]} if several else {}
        family = {"family": r.get("family") or "—"} if families else {}
        rows.append(
            {
                "variant": r["variant"],
                **device,
                **family,
                "method": r.get("method") or "—",
                "backend": r.get("backend") or "—",
                **_score_columns(frame, r),
                f"energy mJ/{item} ± 95% CI": _plus_minus(r["energy_j"], r["energy_j_ci95"], 1000),
                "meter accuracy mJ": _systematic(r),
                f"net mJ/{item}": _plus_minus(
                    r.get("net_energy_j"), r.get("net_energy_j_ci95"), 1000
                ),
                **(_generation_columns(r) if generation else {}),
                "energy method": energy_method_text(r),
                "latency p50 ms": _latency(r),
                "peak RSS MB": _plus_minus(r.get("peak_rss_bytes"), None, 1e-6),
                "params M": _plus_minus(r.get("params"), None, 1e-6),
                "size MB": _plus_minus(r.get("model_size_bytes"), None, 1e-6),
                **(
                    {"compressed MB": _plus_minus(r.get("compressed_size_bytes"), None, 1e-6)}
                    if compressed
                    else {}
                ),
                f"{charges} per {r['battery']} charge": (
                    f"{_count(r['inferences_per_charge'])} "
                    f"[{_count(r['inferences_per_charge_low'])}, "
                    f"{_count(r['inferences_per_charge_high'])}]"
                ),
                **(_calibrated_columns(r) if calibrated else {}),
                "Pareto": marks[index] or "—",
                "flags": ", ".join(dict.fromkeys(str(r.get("flags") or "").split(","))) or "—",
            }
        )
    return pd.DataFrame(rows)


DETAIL_COLUMNS = (
    "method",
    "backend",
    "top-5 (95% CI)",
    "meter accuracy mJ",
    "net mJ/inference",
    "net mJ/request",
    "mJ/prompt token ± 95% CI",
    "tokens per charge",
    "peak RSS MB",
    "params M",
    "compressed MB",
)
"""Columns of :func:`figures_table` a narrow terminal leaves out (least needed last)."""


def flag_lines(frame: pd.DataFrame) -> list[str]:
    """Every flag a row carries, as ``variant: code: what happened and the fix``."""
    lines: list[str] = []
    if "flag_notes" not in frame:
        return lines
    several = several_devices(frame)
    for _, r in frame.iterrows():
        notes = r.get("flag_notes")
        if not isinstance(notes, str) or not notes:
            continue
        name = f"{r['variant']} @ {r['machine']}" if several else str(r["variant"])
        lines += [f"{name}: {note}" for note in notes.split(" | ")]
    return list(dict.fromkeys(lines))


def flag_summary(frame: pd.DataFrame) -> str | None:
    """One line: how many variants carry each flag (None when none carries any)."""
    counts: dict[str, int] = {}
    for codes in frame.get("flags", pd.Series(dtype=object)).dropna():
        for code in dict.fromkeys(c for c in str(codes).split(",") if c):
            counts[code] = counts.get(code, 0) + 1
    if not counts:
        return None
    parts = [f"{n} variant{'s' if n > 1 else ''} {code}" for code, n in counts.items()]
    return "flags: " + ", ".join(parts) + " (see the notes under the table)"
