"""A candidate run against the recent past of its machine (``compare --history DIR --last N``).

One baseline run may itself have been unlucky; the last N runs of the same machine, meter and
energy method say how much a run moves from one process, day and commit to the next. For
energy and time per inference the candidate's run value is judged against the N past run
values by a **prediction interval**: with ``m`` and ``s`` their mean and standard deviation,
``t = (candidate - m) / (s x sqrt(1 + 1/N))`` follows Student's t with N - 1 degrees of freedom
when the candidate is one more run like them (the between-run spread, the windows' noise and
the commits' harmless changes all in ``s``). Accuracy (and a task's own metric) is compared
with the most recent past run by ``compare``'s own paired tests. The p-values are adjusted and
the verdicts given as in ``compare`` (same thresholds, same exit codes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import stats

from joulebench.errors import UserError
from joulebench.history.series import document_order, run_mean_se
from joulebench.results.compare import (
    DEFAULT_THRESHOLDS,
    Change,
    _accuracy_change,
    _adjusted,
    _change,
    _score_change,
    parse_threshold,
    settings_differences,
)
from joulebench.results.frame import documents
from joulebench.statistics.multiple import CORRECTIONS, DESCRIPTIONS

HISTORY_TEST = "history-prediction-t"
MIN_PAST_RUNS = 3


def prediction_change(past: Sequence[float], candidate: float) -> tuple[float, float, float | None]:
    """Candidate - mean of the past, the 95% half-width of a new run's difference, and the
    two-sided p-value (None when the past runs do not vary at all)."""
    values = np.asarray(past, dtype=float)
    n = values.size
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    diff = candidate - mean
    if sd == 0:
        return diff, 0.0, None
    scale = sd * math.sqrt(1 + 1 / n)
    p_value = float(2 * stats.t.sf(abs(diff) / scale, n - 1))
    return diff, float(stats.t.ppf(0.975, n - 1)) * scale, p_value


def compare_history(
    history: Path | str,
    candidate: Path | str,
    *,
    last: int = 10,
    thresholds: Sequence[str] = DEFAULT_THRESHOLDS,
    correction: str = "holm",
) -> tuple[list[Change], list[str]]:
    """Every variant of ``candidate`` against its last ``last`` runs in ``history``."""
    if correction not in CORRECTIONS:
        raise UserError(f"unknown correction {correction!r}; choose from {', '.join(CORRECTIONS)}")
    if last < MIN_PAST_RUNS:
        raise UserError(f"--last {last}: the gate needs at least {MIN_PAST_RUNS} past runs")
    limits = {t.metric: t for t in (parse_threshold(x) for x in thresholds)}
    candidates = sorted((d for _, d in documents(candidate)), key=document_order)
    if not candidates:
        raise UserError(f"{candidate} holds no results to judge")
    new = candidates[-1]
    past_docs = sorted(
        (
            d
            for _, d in documents(history)
            if d["run_id"] not in {c["run_id"] for c in candidates}
            and d.get("machine_id") == new.get("machine_id")
        ),
        key=document_order,
    )
    notes: list[str] = []
    raw: list[Change] = []
    for measurement in new["measurements"]:
        label = measurement["label"]
        past = [
            (d, m)
            for d in past_docs
            for m in d["measurements"]
            if m["label"] == label
            and m["meter"] == measurement["meter"]
            and m["method"] == measurement["method"]
        ][-last:]
        if len(past) < MIN_PAST_RUNS:
            notes.append(
                f"{label}: {len(past)} earlier run(s) of it on {new.get('machine_id')} with "
                f"{measurement['meter']} ({measurement['method']}) in {history}; the gate "
                f"needs {MIN_PAST_RUNS}: not judged"
            )
            continue
        latest_doc, latest = past[-1]
        for differ in settings_differences(latest_doc, latest, new, measurement):
            notes.append(f"{label}: SETTINGS DIFFER from the latest past run: {differ}")
        for metric, field in (("energy_j", "energy_j"), ("time_s", "duration_s")):
            found = [run_mean_se(m, field) for _, m in [*past, (new, measurement)]]
            if any(f is None for f in found):
                continue
            *values, value = [f[0] for f in found]  # type: ignore[index]
            diff, half, p_value = prediction_change(values, value)
            change = _change(label, metric, value - diff, diff, half, p_value, HISTORY_TEST, limits)
            raw.append(replace(change, runs_a=len(values), runs_b=1))
        for metric, tested in (
            ("score", _score_change(label, latest, measurement, notes)),
            ("accuracy", _accuracy_change(label, latest, measurement, notes)),
        ):
            if tested is not None:
                raw.append(
                    _change(
                        label,
                        metric,
                        tested.base,
                        tested.diff,
                        0.0,
                        tested.p_value,
                        tested.test,
                        limits,
                        low=tested.low,
                        high=tested.high,
                    )
                )
    if not raw:
        raise UserError(
            f"nothing in {candidate} could be judged against {history}: "
            + ("; ".join(notes) if notes else "no shared variants")
        )
    notes.append(
        f"energy_j and time_s: against the last {last} runs of the same machine and method "
        f"(prediction interval, {HISTORY_TEST}); accuracy: against the latest of them"
    )
    changes = _adjusted(raw, correction, limits)
    notes.append(f"correction for {len(changes)} tests at once: {DESCRIPTIONS[correction]}")
    return changes, notes
