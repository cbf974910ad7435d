"""Compare two runs: per variant and metric, the change with its 95% interval and a verdict.

Energy and time per inference: with at least two runs per side (``run --repeat K``), Welch's
t-test on the runs' means, so what changes between processes counts; with one run per side,
Welch's t-test on the windows, which sees within-run noise only (and the notes say so).
Accuracy: McNemar's exact test on the examples the two sides disagree on, when both sides hold
per-example outcomes of the same test set (Newcombe's paired interval for the difference);
otherwise a two-proportion z-test (Wald interval), and the notes say why. A task's own metric
(``score``): a paired bootstrap of the difference from the replicates both sides stored, else
the two intervals as normal errors.

Every test's p-value is adjusted for the number of tests made (variant x metric): Holm by
default (family-wise error 5%), Benjamini-Hochberg with ``correction="bh"``; tests that cannot
reach significance whatever the data (McNemar with too few discordant examples) are left out of
the count by Tarone's rule. A change is
*regressed* only when it is both past its threshold in the bad direction and significant after
adjustment; *improved* likewise; otherwise *within noise* or *within threshold*; *cannot tell*
when neither side's windows vary at all (no spread to judge a difference by). Runs from
different machines, meters or energy methods, or measured with different settings (test set,
max length, batch size, threads, device, dtype), are refused unless explicitly allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from joulebench.devices.base import MEASURED_METHODS
from joulebench.errors import UserError
from joulebench.harness.repeats import means_by_run
from joulebench.results.frame import documents
from joulebench.statistics.bootstrap import PAIRED_BOOTSTRAP, Replicates, paired_difference
from joulebench.statistics.multiple import CORRECTIONS, DESCRIPTIONS, adjust, tarone_family
from joulebench.statistics.paired import MCNEMAR, mcnemar_floor, paired_accuracy
from joulebench.tasks.outcomes import Outcomes

ALPHA = 0.05
WELCH_WINDOWS = "welch-t-windows"
"""Energy or time, one run per side: Welch's t on the windows (within-run noise only)."""
WELCH_RUNS = "welch-t-run-means"
"""Energy or time, two or more runs per side: Welch's t on the runs' means."""
TWO_PROPORTIONS = "two-proportion-z"
"""Accuracy without paired outcomes: the two accuracies as if from different examples."""
CANNOT_TELL = "cannot tell"
UNPAIRED_INTERVALS = "unpaired-normal"
"""A task's own metric without paired replicates: the two 95% intervals as normal errors."""


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


METRICS = ("energy_j", "time_s", "accuracy", "score")
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
    p_value: float | None
    """The test's own p-value (None: the test cannot be made, see ``verdict``)."""
    test: str
    threshold: str
    verdict: str
    p_adjusted: float | None = None
    """``p_value`` adjusted for every test the comparison made (``correction``)."""
    correction: str = "none"
    runs_a: int = 1
    runs_b: int = 1
    p_floor: float = 0.0
    """The smallest p-value the test could give (McNemar with few discordant examples cannot
    reach 0.05); tests that cannot reach significance are left out of the correction."""


def _per_inference(measurement: dict[str, Any], field: str) -> np.ndarray:
    """Each window's figure per item (the examples it actually ran)."""
    return np.array([w[field] / w["items"] for w in measurement["windows"]], dtype=float)


def run_means(measurement: dict[str, Any], field: str) -> np.ndarray:
    """The mean per-item figure of each run (worker process) the windows came from, in run
    order; one value for a measurement of one run (windows without a ``run`` are run 0)."""
    windows = measurement["windows"]
    values = [w[field] / w["items"] for w in windows]
    return np.array(means_by_run(values, [w.get("run", 0) for w in windows]), dtype=float)


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float | None]:
    """B - A, its 95% Welch interval half-width, and the two-sided p-value (None when
    neither side varies at all: a difference cannot be judged against no spread)."""
    diff = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, 0.0, None
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


def _verdict(change: float, base: float, p_value: float | None, threshold: Threshold) -> str:
    size = change / base if threshold.relative and base else change
    bad = size * threshold.sign
    if p_value is None:
        return CANNOT_TELL
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


def run_settings(document: dict[str, Any], measurement: dict[str, Any]) -> dict[str, Any]:
    """The settings of one measurement that change its figures by themselves (None: not
    recorded): the test set and its size, max length, batch size, threads, device, dtype."""
    variant = measurement.get("variant") or {}
    details = variant.get("details") or {}
    task = document.get("task") or {}
    return {
        "test examples": task.get("test"),
        "test set": task.get("test_set_sha256"),
        "max length": variant.get("max_length", details.get("max_length")),
        "batch size": variant.get("batch_size"),
        "threads": variant.get("threads", measurement.get("threads")),
        "device": variant.get("device"),
        "dtype": details.get("dtype"),
    }


def settings_differences(
    a: dict[str, Any], ma: dict[str, Any], b: dict[str, Any], mb: dict[str, Any]
) -> list[str]:
    """Each setting recorded on both sides that differs, as ``max length 128 vs 64``."""
    sa, sb = run_settings(a, ma), run_settings(b, mb)
    found = []
    for key, va in sa.items():
        vb = sb[key]
        if va is None or vb is None or va == vb:
            continue
        if key == "test set":
            if sa["test examples"] != sb["test examples"]:
                continue  # the sizes already say so
            found.append(f"test set differs (same size, other examples: {va[:8]} vs {vb[:8]})")
        else:
            found.append(f"{key} {va} vs {vb}")
    return found


@dataclass(frozen=True)
class _Tested:
    """One test's figures: A's value, B - A with its interval, p-value, test, p floor."""

    base: float
    diff: float
    low: float
    high: float
    p_value: float | None
    test: str
    floor: float = 0.0


def _accuracy_change(
    label: str, ma: dict[str, Any], mb: dict[str, Any], notes: list[str]
) -> _Tested | None:
    """The two accuracies: paired when both sides hold outcomes of the same test set, else
    two proportions (and a note says why)."""
    va, vb = ma.get("variant") or {}, mb.get("variant") or {}
    acc_a, acc_b = va.get("accuracy"), vb.get("accuracy")
    if not (acc_a and acc_b):
        return None
    out_a = Outcomes.from_dict(va.get("outcomes"))
    out_b = Outcomes.from_dict(vb.get("outcomes"))
    if out_a is not None and out_b is not None and out_a.pairs_with(out_b):
        paired = paired_accuracy(out_a.correct, out_b.correct)
        return _Tested(acc_a["value"], paired.difference, paired.ci_low, paired.ci_high,
                       paired.p_value, MCNEMAR, mcnemar_floor(paired.discordant))  # fmt: skip
    if out_a is None or out_b is None:
        why = "per-example outcomes not recorded (results of an older joulebench)"
    else:
        why = "the two sides were scored on different test sets"
    notes.append(f"{label}: accuracy compared unpaired ({TWO_PROPORTIONS}): {why}")
    diff, half, p_value = _proportions(acc_a, acc_b)
    return _Tested(acc_a["value"], diff, diff - half, diff + half, p_value, TWO_PROPORTIONS)


def _score_change(
    label: str, ma: dict[str, Any], mb: dict[str, Any], notes: list[str]
) -> _Tested | None:
    """A task's own metric (not accuracy): a paired
    bootstrap when both sides hold replicates drawn on the same examples, else the two
    intervals taken as normal errors (and a note says why); None for a classifier."""
    va, vb = ma.get("variant") or {}, mb.get("variant") or {}
    name = va.get("primary_metric")
    if not name or name == "accuracy" or name != vb.get("primary_metric"):
        return None
    sa, sb = (va.get("metrics") or {}).get(name), (vb.get("metrics") or {}).get(name)
    if not sa or not sb:
        return None
    ra, rb = Replicates.from_dict(va.get("outcomes")), Replicates.from_dict(vb.get("outcomes"))
    if ra is not None and rb is not None and ra.pairs_with(rb):
        diff, low, high, p_value = paired_difference(ra, rb)
        floor = 2 / (ra.values.size + 1)
        return _Tested(sa["value"], diff, low, high, p_value, PAIRED_BOOTSTRAP, floor)
    if None in (sa.get("ci_low"), sa.get("ci_high"), sb.get("ci_low"), sb.get("ci_high")):
        notes.append(f"{label}: score ({name}) has no interval on a side; not compared")
        return None
    why = (
        "no bootstrap replicates recorded"
        if ra is None or rb is None
        else "the replicates were drawn differently (test set, seed, resamples or scipy)"
    )
    notes.append(f"{label}: score ({name}) compared unpaired ({UNPAIRED_INTERVALS}): {why}")
    z = 1.959963984540054
    se = math.hypot(sa["ci_high"] - sa["ci_low"], sb["ci_high"] - sb["ci_low"]) / (2 * z)
    diff = sb["value"] - sa["value"]
    if se == 0:
        notes.append(f"{label}: score ({name}) has intervals of zero width: cannot tell")
        return _Tested(sa["value"], diff, diff, diff, None, UNPAIRED_INTERVALS)
    p_value = float(2 * stats.norm.sf(abs(diff) / se))
    return _Tested(sa["value"], diff, diff - z * se, diff + z * se, p_value, UNPAIRED_INTERVALS)


def compare(
    path_a: Path | str,
    path_b: Path | str,
    thresholds: Sequence[str] = DEFAULT_THRESHOLDS,
    *,
    allow_different_hardware: bool = False,
    allow_different_settings: bool = False,
    correction: str = "holm",
) -> tuple[list[Change], list[str]]:
    """Compare every variant present in both; return the changes and notes for the reader.

    ``correction``: how the p-values of all the tests are adjusted for their number
    (``holm``, ``bh`` or ``none``).
    """
    if correction not in CORRECTIONS:
        raise UserError(f"unknown correction {correction!r}; choose from {', '.join(CORRECTIONS)}")
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
    raw: list[Change] = []
    within_run_only: list[str] = []
    for label in common:
        (doc_a, ma), (doc_b, mb) = runs_a[label], runs_b[label]
        problems = _check_comparable(doc_a, ma, doc_b, mb)
        if problems and not allow_different_hardware:
            raise UserError(
                f"refusing to compare {label!r}: {'; '.join(problems)}; a change there says "
                "nothing about the code. Use --allow-different-hardware to compare anyway"
            )
        notes += [f"{label}: {p} (compared anyway: --allow-different-hardware)" for p in problems]
        differ = settings_differences(doc_a, ma, doc_b, mb)
        if differ and not allow_different_settings:
            raise UserError(
                f"refusing to compare {label!r}: settings differ ({'; '.join(differ)}), which "
                "changes the figures by itself. Measure both with the same settings, or use "
                "--allow-different-settings to compare anyway"
            )
        notes += [
            f"{label}: SETTINGS DIFFER: {d}; a change may come from the settings, not the "
            "code (compared anyway: --allow-different-settings)"
            for d in differ
        ]
        for metric, field in (("energy_j", "energy_j"), ("time_s", "duration_s")):
            change = _window_change(label, metric, field, ma, mb, limits, notes)
            if change is not None:
                raw.append(change)
                if change.test == WELCH_WINDOWS:
                    within_run_only.append(label)
        for metric, tested in (
            ("score", _score_change(label, ma, mb, notes)),
            ("accuracy", _accuracy_change(label, ma, mb, notes)),
        ):
            if tested is not None:
                change = _change(label, metric, tested.base, tested.diff, 0.0, tested.p_value,
                                 tested.test, limits, low=tested.low, high=tested.high)  # fmt: skip
                raw.append(replace(change, p_floor=tested.floor))
    if within_run_only:
        notes.append(
            "energy_j and time_s of "
            + ", ".join(dict.fromkeys(within_run_only))
            + ": one run on a side, so the interval covers within-run noise only (not what "
            "changes between processes); measure with --repeat 3 or more for run-to-run spread"
        )
    changes = _adjusted(raw, correction, limits)
    tested = [c for c in changes if c.p_value is not None]
    inside, _ = tarone_family([c.p_floor for c in tested])
    left_out = len(inside) - sum(inside)
    notes.append(
        f"correction for {len(tested)} tests at once: {DESCRIPTIONS[correction]}"
        + (
            f"; {left_out} that could not reach significance whatever the data (accuracy "
            "with too few examples answered differently) left out of it (Tarone)"
            if left_out and correction != "none"
            else ""
        )
    )
    return changes, notes


def _window_change(
    label: str,
    metric: str,
    field: str,
    ma: dict[str, Any],
    mb: dict[str, Any],
    limits: dict[str, Threshold],
    notes: list[str],
) -> Change | None:
    """Energy or time per inference: on run means with two or more runs per side, else on
    windows."""
    means_a, means_b = run_means(ma, field), run_means(mb, field)
    if means_a.size >= 2 and means_b.size >= 2:
        a, b, test = means_a, means_b, WELCH_RUNS
    else:
        a, b, test = _per_inference(ma, field), _per_inference(mb, field), WELCH_WINDOWS
    if a.size < 2 or b.size < 2:
        notes.append(f"{label}: {metric} has fewer than 2 windows in a run; not compared")
        return None
    diff, half, p_value = _welch(a, b)
    if p_value is None:
        notes.append(
            f"{label}: {metric}: neither side's {'runs' if test == WELCH_RUNS else 'windows'} "
            "vary at all, so no difference can be judged (cannot tell); check the meter"
        )
    change = _change(label, metric, float(a.mean()), diff, half, p_value, test, limits)
    return replace(change, runs_a=int(means_a.size), runs_b=int(means_b.size))


def _adjusted(changes: list[Change], correction: str, limits: dict[str, Threshold]) -> list[Change]:
    """Each change with its p-value adjusted for every test made, and its verdict from that."""
    tested = [i for i, c in enumerate(changes) if c.p_value is not None]
    adjusted = adjust(
        [changes[i].p_value for i in tested],  # type: ignore[misc]
        correction,
        [changes[i].p_floor for i in tested],
    )
    out = list(changes)
    for i, p_adj in zip(tested, adjusted, strict=True):
        c = changes[i]
        out[i] = replace(
            c,
            p_adjusted=p_adj,
            correction=correction,
            verdict=_verdict_for(c.metric, c.change, c.a, p_adj, limits),
        )
    return out


def _verdict_for(
    metric: str, change: float, base: float, p_value: float | None, limits: dict[str, Threshold]
) -> str:
    limit = limits.get(metric)
    if limit:
        return _verdict(change, base, p_value, limit)
    if p_value is None:
        return CANNOT_TELL
    return "within noise" if p_value >= ALPHA else "changed (no threshold)"


def _change(
    label: str,
    metric: str,
    base: float,
    diff: float,
    half: float,
    p_value: float | None,
    test: str,
    limits: dict[str, Threshold],
    *,
    low: float | None = None,
    high: float | None = None,
) -> Change:
    limit = limits.get(metric)
    return Change(
        label,
        metric,
        base,
        base + diff,
        diff,
        diff - half if low is None else low,
        diff + half if high is None else high,
        diff / base if base else None,
        p_value,
        test,
        limit.describe() if limit else "—",
        _verdict_for(metric, diff, base, p_value, limits),
    )


def changes_to_dicts(changes: Sequence[Change]) -> list[dict[str, Any]]:
    """Plain-JSON form."""
    return [asdict(c) for c in changes]
