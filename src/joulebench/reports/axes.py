"""Each figure a report can plot: its column, label, display unit, interval and direction."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from joulebench.errors import UserError


@dataclass(frozen=True)
class Axis:
    """One plottable figure of the tidy frame (``results.load``).

    ``scale`` turns the stored SI value into the display unit; the interval comes from
    ``low``/``high`` columns, or ``ci95`` (± half-width), or is absent (a single value).
    """

    column: str
    label: str
    scale: float = 1.0
    higher_is_better: bool = True
    log: bool = False
    low: str | None = None
    high: str | None = None
    ci95: str | None = None

    def bounds(self, row: pd.Series) -> tuple[float, float]:
        """The row's 95% interval in stored units (the value itself when there is none)."""
        value = float(row[self.column])
        if self.low and self.high:
            return float(row[self.low]), float(row[self.high])
        if self.ci95 and row.get(self.ci95) is not None and not pd.isna(row.get(self.ci95)):
            half = float(row[self.ci95])
            return value - half, value + half
        return value, value

    def has_interval(self) -> bool:
        """True when the figure carries a 95% interval."""
        return bool((self.low and self.high) or self.ci95)


AXES: dict[str, Axis] = {
    "accuracy": Axis(
        "accuracy", "accuracy (%)", 100.0, True, False, "accuracy_ci_low", "accuracy_ci_high"
    ),
    "inferences_per_charge": Axis(
        "inferences_per_charge",
        "inferences per {battery} charge",
        1.0,
        True,
        True,
        "inferences_per_charge_low",
        "inferences_per_charge_high",
    ),
    "whole_inferences_per_charge": Axis(
        "whole_inferences_per_charge",
        "inferences per {battery} charge (whole device, calibrated)",
        1.0,
        True,
        True,
        "whole_inferences_per_charge_low",
        "whole_inferences_per_charge_high",
    ),
    "whole_energy_j": Axis(
        "whole_energy_j",
        "energy per inference (mJ, whole device, calibrated)",
        1000.0,
        False,
        True,
        ci95="whole_energy_j_ci95",
    ),
    "energy_j": Axis(
        "energy_j", "energy per inference (mJ, gross)", 1000.0, False, True, ci95="energy_j_ci95"
    ),
    "net_energy_j": Axis(
        "net_energy_j",
        "energy per inference (mJ, net of idle)",
        1000.0,
        False,
        True,
        ci95="net_energy_j_ci95",
    ),
    "latency_p50_s": Axis("latency_p50_s", "latency p50 per batch (ms)", 1000.0, False, True),
    "latency_p95_s": Axis("latency_p95_s", "latency p95 per batch (ms)", 1000.0, False, True),
    "throughput_per_s": Axis("throughput_per_s", "throughput (inferences/s)", 1.0, True, True),
    "peak_rss_bytes": Axis("peak_rss_bytes", "peak RSS (MB)", 1e-6, False, False),
    "model_size_bytes": Axis("model_size_bytes", "size on disk (MB)", 1e-6, False, True),
    "params": Axis("params", "parameters (millions)", 1e-6, False, True),
    "macro_f1": Axis("macro_f1", "macro F1", 1.0, True, False),
    "top5_accuracy": Axis(
        "top5_accuracy",
        "top-5 accuracy (%)",
        100.0,
        True,
        False,
        "top5_accuracy_ci_low",
        "top5_accuracy_ci_high",
    ),
    "score": Axis("score", "score", 1.0, True, False, "score_low", "score_high"),
    "decode_token_j": Axis(
        "decode_token_j",
        "energy per output token (mJ, decode)",
        1000.0,
        False,
        True,
        ci95="decode_token_j_ci95",
    ),
    "prefill_token_j": Axis(
        "prefill_token_j",
        "energy per prompt token (mJ, prefill)",
        1000.0,
        False,
        True,
        ci95="prefill_token_j_ci95",
    ),
    "tokens_per_charge": Axis(
        "tokens_per_charge", "output tokens per {battery} charge", 1.0, True, True
    ),
    "output_tokens_per_s": Axis("output_tokens_per_s", "output tokens/s", 1.0, True, True),
    "ttft_p50_s": Axis("ttft_p50_s", "time to first token p50 (ms)", 1000.0, False, True),
    "tpot_p50_s": Axis("tpot_p50_s", "time per output token p50 (ms)", 1000.0, False, True),
}
"""``score`` is each task's primary metric; its label and direction come from the results."""


def axis(name: str) -> Axis:
    """The axis called ``name``; an unknown name is one line listing the known ones."""
    if name not in AXES:
        raise UserError(f"unknown figure {name!r} for a plot axis; choose from {', '.join(AXES)}")
    return AXES[name]


def resolve(name: str, frame: pd.DataFrame) -> Axis:
    """The axis ``name`` for ``frame``: ``score`` takes its metric's name and direction from
    the results, and ``accuracy`` becomes ``score`` where no row has an accuracy (a task with
    a metric of its own)."""
    if (
        name == "accuracy"
        and "score" in frame
        and frame["accuracy"].isna().all()
        and frame["score"].notna().any()
    ):
        name = "score"
    found = axis(name)
    if name in ("inferences_per_charge", "whole_inferences_per_charge"):
        return _responses(found, frame)
    if name != "score" or "score_name" not in frame:
        return found
    names = sorted(set(frame["score_name"].dropna()))
    directions = set(frame["score_higher_is_better"].dropna())
    if len(directions) > 1:
        raise UserError(
            f"the results mix metrics where higher is better and where lower is better "
            f"({', '.join(names)}); report each task's results on their own"
        )
    higher = bool(directions.pop()) if directions else True
    label = names[0] if len(names) == 1 else f"score ({', '.join(names)})"
    label += "" if higher else " (lower is better)"
    # perplexity is exp(mean loss): a broken variant is orders of magnitude off, so log scale
    log = names == ["perplexity"]
    return replace(found, label=label, higher_is_better=higher, log=log)


def _responses(found: Axis, frame: pd.DataFrame) -> Axis:
    """For generation runs an inference is a response: say so, with its output length."""
    if "new_tokens" not in frame or frame["new_tokens"].isna().all():
        return found
    lengths = sorted({int(n) for n in frame["new_tokens"].dropna()})
    each = f" of {lengths[0]} output tokens" if len(lengths) == 1 else ""
    return replace(found, label=found.label.replace("inferences", f"responses{each}"))


def oriented(axis_: Axis, value: float) -> float:
    """``value`` turned so that larger is better (negated for lower-is-better figures)."""
    return value if axis_.higher_is_better else -value
