"""Several runs of the same workloads (``--repeat K``) as one result, with run-to-run spread.

Windows of one worker process share what stays fixed for that process: its memory layout, the
moment's clocks and temperature, what else the machine was doing. Their spread says nothing
about those, and a comparison of two runs judged on windows alone calls two runs of the same
code different far more often than 5% of the time. Measured in K independent runs (each a
fresh set of worker processes, windows interleaved and shuffled as in one run), a figure is
summarised on two levels: each run's mean over its windows, then the mean of the K run means
with the Student-t interval of those K means (``interval = "between-runs"``, K - 1 degrees of
freedom), which holds every source of variance a new run brings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from joulebench.errors import MeasurementError
from joulebench.harness.result import Flag, MeasureResult, Window
from joulebench.harness.stats import Summary, summarize
from joulebench.harness.summary import idle_power_by_round, net_values

BETWEEN_RUNS = "between-runs"


def means_by_run(values: Sequence[float], runs: Sequence[int]) -> list[float]:
    """The mean of the values of each run, in run order."""
    by_run: dict[int, list[float]] = {}
    for value, run in zip(values, runs, strict=True):
        by_run.setdefault(int(run), []).append(value)
    return [float(np.mean(by_run[k])) for k in sorted(by_run)]


def between_runs(values: Sequence[float], runs: Sequence[int], what: str) -> Summary:
    """The mean of each run's mean, with the 95% Student-t interval of the run means.

    ``std``, ``min``, ``max`` and ``median`` are those of the run means; ``n`` is the number
    of runs.
    """
    means = means_by_run(values, runs)
    if len(means) < 2:
        raise MeasurementError(f"{what}: a run-to-run interval needs at least 2 runs")
    return replace(summarize(means, f"{what} (run means)"), interval=BETWEEN_RUNS)


def _renumbered(results: Sequence[MeasureResult]) -> tuple[list[Window], list[Window]]:
    """Every run's windows tagged with their run, rounds numbered on across runs (so each idle
    window still pairs with the windows of its own round)."""
    windows: list[Window] = []
    idle: list[Window] = []
    offset = 0
    for run, result in enumerate(results):
        rounds = [w.round_index for w in (*result.windows, *result.idle_windows)]
        windows += [replace(w, run=run, round_index=w.round_index + offset) for w in result.windows]
        idle += [
            replace(w, run=run, round_index=w.round_index + offset) for w in result.idle_windows
        ]
        offset += max(rounds, default=-1) + 1
    return windows, idle


def _flags(results: Sequence[MeasureResult], energy: Summary) -> tuple[Flag, ...]:
    seen: dict[tuple[str, str], Flag] = {}
    for run, result in enumerate(results):
        for flag in result.flags:
            seen.setdefault(
                (flag.code, flag.message), Flag(flag.code, f"run {run + 1}: {flag.message}")
            )
    flags = list(seen.values())
    if energy.cv >= 0.10:
        flags.append(
            Flag(
                "runs-differ",
                f"energy per item varies {energy.cv:.0%} (CV) between runs: something changed "
                "between them (clocks, temperature, other programs); rerun on a quiet machine",
            )
        )
    return tuple(flags)


def merge_runs(results: Sequence[MeasureResult]) -> MeasureResult:
    """K runs of one workload as one result: all windows (each with its ``run``), figures as
    the mean of run means with the between-runs interval. One run is returned unchanged."""
    if not results:
        raise MeasurementError("no runs to merge")
    if len(results) == 1:
        return results[0]
    first = results[0]
    label = first.label
    windows, idle = _renumbered(results)
    runs = [w.run for w in windows]
    energy = between_runs([w.energy_j / w.items for w in windows], runs, f"{label}: energy")
    duration = between_runs([w.duration_s / w.items for w in windows], runs, f"{label}: time")
    power = between_runs([w.power_w for w in windows], runs, f"{label}: power")
    idle_power = net = None
    net_error = first.net_error
    if idle:
        idle_power = between_runs([w.power_w for w in idle], [w.run for w in idle], "idle power")
        nets = net_values(windows, idle_power.mean, idle_power_by_round(idle))
        net = between_runs(nets, runs, f"{label}: net energy")
        net_error = None
        if net.mean <= 0:
            net, net_error = (
                None,
                next((r.net_error for r in results if r.net_error), None)
                or (
                    "net energy per item came out not positive over the runs: idle power was at "
                    "least the loaded power"
                ),
            )
    target = [r.target_met for r in results]
    return replace(
        first,
        energy_per_item_j=energy,
        net_energy_per_item_j=net,
        net_error=net_error,
        duration_per_item_s=duration,
        power_w=power,
        idle_power_w=idle_power,
        windows=tuple(windows),
        idle_windows=tuple(idle),
        discarded=tuple(d for r in results for d in r.discarded),
        flags=_flags(results, energy),
        target_met=None if all(t is None for t in target) else all(t is not False for t in target),
        interrupted=any(r.interrupted for r in results),
        stopping={
            **first.stopping,
            "runs": len(results),
            "interval": BETWEEN_RUNS,
            "per_run": [r.stopping for r in results],
        },
        order=tuple(o for r in results for o in r.order),
    )
