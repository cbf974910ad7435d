"""Compare two runs: per variant and metric, the change with its 95% interval and a verdict.

Energy and time per inference are compared window by window with Welch's t-test (unequal
variances; scipy), accuracy as two proportions (a z-test, Wald interval for the difference).
A change is *regressed* only when it is both past its threshold in the bad direction and
significant (p < 0.05); *improved* likewise in the good direction; otherwise *within noise*
(not significant) or *within threshold* (significant but small). Runs from different machines,
meters or energy methods are refused unless explicitly allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from joulebench.devices.base import MEASURED_METHODS
from joulebench.errors import UserError
from joulebench.results.frame import documents

ALPHA = 0.05


@dataclass(frozen=True)
class Threshold:
    """How far a metric may move in its bad direction: ``energy_j:+5%``, ``accuracy:-1pt``."""

    metric: str
    sign: int  # +1: an increase is bad; -1: a decrease is bad
    amount: float
    relative: bool

    def describe(self) -> str:
        """Back to the user's spelling."""
        unit = "%" if self.relative else "pt" if self.metric == "accuracy" else ""
        amount = self.amount * 100 if self.relative or self.metric == "accuracy" else self.amount
        return f"{self.metric}:{'+' if self.sign > 0 else '-'}{amount:g}{unit}"


METRICS = ("energy_j", "time_s", "accuracy")
DEFAULT_THRESHOLDS = ("energy_j:+5%", "time_s:+5%", "accuracy:-1pt")
_THRESHOLD = re.compile(
    r"^(?P<metric>[a-z_0-9]+):(?P<sign>[+-])(?P<amount>[0-9.]+)(?P<unit>%|pt)?$"
)


def parse_threshold(text: str) -> Threshold:
    """``energy_j:+5%`` (relative), ``accuracy:-1pt`` (points), ``time_s:+0.002`` (absolute)."""
    match = _THRESHOLD.match(text.strip())
    if not match or match["metric"] not in METRICS:
        raise UserError(
            f"threshold {text!r} is not like energy_j:+5% or accuracy:-1pt "
            f"(metrics: {', '.join(METRICS)})"
        )
    amount = float(match["amount"])
    unit = match["unit"]
    if unit == "pt" and match["metric"] != "accuracy":
        raise UserError(f"threshold {text!r}: points (pt) are for accuracy only; use %")
    return Threshold(
        match["metric"],
        1 if match["sign"] == "+" else -1,
        amount / 100 if unit in ("%", "pt") else amount,
        unit == "%",
    )


@dataclass(frozen=True)
class Change:
    """One metric of one variant: A, B, B - A with its 95% interval, p-value, verdict."""

    variant: str
    metric: str
    a: float
    b: float
    change: float
    ci_low: float
    ci_high: float
    relative: float | None
    p_value: float
    test: str
    threshold: str
    verdict: str


def _per_inference(measurement: dict[str, Any], field: str) -> np.ndarray:
    """Each window's figure per item (the examples it actually ran)."""
    return np.array([w[field] / w["items"] for w in measurement["windows"]], dtype=float)


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """B - A, its 95% Welch interval half-width, and the two-sided p-value."""
    diff = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, 0.0, 1.0 if diff == 0 else 0.0
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    p_value = float(stats.ttest_ind(b, a, equal_var=False).pvalue)
    return diff, float(stats.t.ppf(0.975, df) * se), p_value


def _proportions(acc_a: dict[str, Any], acc_b: dict[str, Any]) -> tuple[float, float, float]:
    """B - A of two accuracies, its 95% Wald half-width and the z-test p-value."""
    pa, na = acc_a["value"], acc_a["n"]
    pb, nb = acc_b["value"], acc_b["n"]
    diff = pb - pa
    half = 1.959964 * math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    pooled = (acc_a["correct"] + acc_b["correct"]) / (na + nb)
    se = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    p_value = 1.0 if se == 0 else float(2 * stats.norm.sf(abs(diff) / se))
    return diff, half, p_value


def _verdict(change: float, base: float, p_value: float, threshold: Threshold) -> str:
    size = change / base if threshold.relative and base else change
    bad = size * threshold.sign
    if p_value >= ALPHA:
        return "within noise"
    if bad > threshold.amount:
        return "regressed"
    if -bad > threshold.amount:
        return "improved"
    return "within threshold"


def _load_runs(path: Path | str) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """label -> (document, measurement); the newest run wins where a label repeats."""
    found: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for _, document in sorted(documents(path), key=lambda item: item[1]["created_utc"]):
        for measurement in document["measurements"]:
            found[measurement["label"]] = (document, measurement)
    return found


def _check_comparable(
    a: dict[str, Any], ma: dict[str, Any], b: dict[str, Any], mb: dict[str, Any]
) -> list[str]:
    problems = []
    if a["machine_id"] != b["machine_id"]:
        problems.append(f"machines differ ({a['machine_id']} vs {b['machine_id']})")
    if ma["meter"] != mb["meter"]:
        problems.append(f"meters differ ({ma['meter']} vs {mb['meter']})")
    if ma["method"] != mb["method"]:
        problems.append(f"energy methods differ ({ma['method']} vs {mb['method']})")
    return problems


def compare(
    path_a: Path | str,
    path_b: Path | str,
    thresholds: Sequence[str] = DEFAULT_THRESHOLDS,
    *,
    allow_different_hardware: bool = False,
) -> tuple[list[Change], list[str]]:
    """Compare every variant present in both; return the changes and notes for the reader."""
    limits = {t.metric: t for t in (parse_threshold(x) for x in thresholds)}
    runs_a, runs_b = _load_runs(path_a), _load_runs(path_b)
    common = [label for label in runs_a if label in runs_b]
    if not common:
        raise UserError(
            f"{path_a} and {path_b} share no variant or workload label "
            f"({', '.join(runs_a)} vs {', '.join(runs_b)}); compare runs of the same variants"
        )
    methods = sorted({m["method"] for runs in (runs_a, runs_b) for _, m in runs.values()})
    measured = all(m in MEASURED_METHODS for m in methods)
    notes = [
        f"energy method: {', '.join(methods)} ("
        + ("measured" if measured else "NOT measured: an estimate or simulation")
        + ")"
    ]
    notes += [f"only in A: {label}" for label in runs_a if label not in runs_b]
    notes += [f"only in B: {label}" for label in runs_b if label not in runs_a]
    changes: list[Change] = []
    for label in common:
        (doc_a, ma), (doc_b, mb) = runs_a[label], runs_b[label]
        problems = _check_comparable(doc_a, ma, doc_b, mb)
        if problems and not allow_different_hardware:
            raise UserError(
                f"refusing to compare {label!r}: {'; '.join(problems)}; a change there says "
                "nothing about the code. Use --allow-different-hardware to compare anyway"
            )
        notes += [f"{label}: {p} (compared anyway: --allow-different-hardware)" for p in problems]
        for metric, field in (("energy_j", "energy_j"), ("time_s", "duration_s")):
            a, b = _per_inference(ma, field), _per_inference(mb, field)
            if a.size < 2 or b.size < 2:
                notes.append(f"{label}: {metric} has fewer than 2 windows in a run; not compared")
                continue
            diff, half, p_value = _welch(a, b)
            changes.append(
                _change(label, metric, float(a.mean()), diff, half, p_value, "Welch t", limits)
            )
        acc_a = (ma.get("variant") or {}).get("accuracy")
        acc_b = (mb.get("variant") or {}).get("accuracy")
        if acc_a and acc_b:
            diff, half, p_value = _proportions(acc_a, acc_b)
            changes.append(
                _change(
                    label,
                    "accuracy",
                    acc_a["value"],
                    diff,
                    half,
                    p_value,
                    "two-proportion z",
                    limits,
                )
            )
    return changes, notes


def _change(
    label: str,
    metric: str,
    base: float,
    diff: float,
    half: float,
    p_value: float,
    test: str,
    limits: dict[str, Threshold],
) -> Change:
    limit = limits.get(metric)
    verdict = (
        _verdict(diff, base, p_value, limit)
        if limit
        else ("within noise" if p_value >= ALPHA else "changed (no threshold)")
    )
    return Change(
        label,
        metric,
        base,
        base + diff,
        diff,
        diff - half,
        diff + half,
        diff / base if base else None,
        p_value,
        test,
        limit.describe() if limit else "—",
        verdict,
    )


def changes_to_dicts(changes: Sequence[Change]) -> list[dict[str, Any]]:
    """Plain-JSON form."""
    return [asdict(c) for c in changes]
