"""A simulated calibration run: a counter-measured run and a wall meter's log of the same
windows, with a known whole-device line ``wall = slope x component + intercept``.

Used by the tests and ``bench/bench_calibration.py``, and public so a course team can walk
through ``joulebench calibrate`` before they have a plug meter (docs/calibration.md). Every
figure it makes is simulated and its documents say so in ``extra``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from joulebench.harness.stats import summarize
from joulebench.tasks.metrics import accuracy
from joulebench.testing.meterlogs import write_meter_log

START_UNIX_S = 1_796_000_000.0
MACHINE = {
    "hostname": "lab-pc", "cpu_model": "simulated CPU", "logical_cpus": 8, "physical_cpus": 4,
    "memory_bytes": 16 * 2**30, "gpus": [], "gpu_driver": None, "os": "Linux", "kernel": "6.8.0",
    "arch": "x86_64", "governor": "performance", "boost": True, "smt": True,
    "rapl_power_limits_w": {}, "python": "3.11.7", "libraries": {},
}  # fmt: skip


def _window(label: str, index: int, start_s: float, window_s: float, power_w: float,
            items: int) -> dict[str, Any]:  # fmt: skip
    return {
        "label": label, "round_index": index, "calls": 1 if items else 0, "items": items,
        "start_wall_s": start_s, "end_wall_s": start_s + window_s, "duration_s": window_s,
        "meter_duration_s": window_s, "energy_j": power_w * window_s, "flags": [], "run": 0,
        "position": 0,
    }  # fmt: skip


def counter_run(
    rng: np.random.Generator,
    *,
    levels_w: Sequence[float] = (12.0, 25.0, 40.0, 55.0),
    idle_w: float = 4.0,
    rounds: int = 5,
    window_s: float = 2.0,
    gap_s: float = 0.5,
    counter_noise_frac: float = 0.01,
    items: int = 64,
    accuracies: Sequence[float] | None = None,
    test_examples: int = 500,
    meter: str = "simulated",
    scope: str = "package+dram",
    machine_id: str = "lab-pc-0000sim",
    run_id: str = "simulated-calibration-run",
) -> dict[str, Any]:
    """A run document of ``len(levels_w)`` workloads and idle windows, in shuffled rounds,
    whose simulated counter (scope ``scope``) read each workload's level (times
    ``counter_noise_frac`` noise). Its energy method is ``simulated``, so every table, file and
    plot made from it says so.

    With ``accuracies`` each workload is a variant scored on ``test_examples`` examples (a
    report can plot it); energy figures are summarised from the windows as the runner does.
    """
    labels = [f"load-{i}" for i in range(len(levels_w))]
    power = dict(zip(labels, levels_w, strict=True)) | {"idle": idle_w}
    windows: dict[str, list[dict[str, Any]]] = {label: [] for label in [*labels, "idle"]}
    clock = START_UNIX_S
    for index in range(rounds):
        for label in rng.permutation([*labels, "idle"]):
            read_w = power[label] * (1 + counter_noise_frac * rng.standard_normal())
            count = 0 if label == "idle" else items
            windows[label].append(_window(label, index, clock, window_s, read_w, count))
            clock += window_s + gap_s + rng.uniform(0.0, 0.2)  # the runner's random sleep
    measurements = [
        {
            "label": label,
            "meter": meter,
            "method": "simulated",
            "method_label": "SIMULATED (not measured)",
            "scope": scope,
            "meter_reason": "a simulated counter (joulebench.testing.calibration)",
            "meter_details": {},
            "calls_per_window": 1,
            "min_window_s": window_s,
            "threads": {},
            "stopping": {"rule": "fixed"},
            "figures": {"energy_per_item_j": {"interval": "student-t"}},
            "systematic": {},
            "flags": [],
            "windows": windows[label],
            "discarded": [],
        }
        for label in labels
    ]
    idle_power = summarize([w["energy_j"] / w["duration_s"] for w in windows["idle"]])
    for index, m in enumerate(measurements):
        ws = m["windows"]
        m["figures"] = {
            "energy_per_item_j": asdict(summarize([w["energy_j"] / w["items"] for w in ws])),
            "duration_per_item_s": asdict(summarize([w["duration_s"] / w["items"] for w in ws])),
            "power_w": asdict(summarize([w["energy_j"] / w["duration_s"] for w in ws])),
            "idle_power_w": asdict(idle_power),
            "net_energy_per_item_j": None,
        }
        if accuracies is not None:
            correct = round(accuracies[index] * test_examples)
            right = (np.arange(test_examples) < correct).astype(int)
            score = accuracy(right, np.ones(test_examples, dtype=int))
            m["variant"] = {"name": m["label"], "method": "base", "backend": "callable",
                            "accuracy": score.to_dict(), "batch_size": items}  # fmt: skip
    return {
        "schema_version": 2, "joulebench_version": "simulated", "run_id": run_id,
        "created_utc": "2026-12-02T00:00:00+00:00", "machine_id": machine_id,
        "machine": dict(MACHINE), "settings": {"idle": True}, "order": [], "order_seed": 0,
        "measurements": measurements, "idle_windows": windows["idle"], "failures": [],
        "extra": {"simulated": "counter readings and wall log are simulated"},
    }  # fmt: skip


def wall_log(
    path: Path | str,
    document: dict[str, Any],
    *,
    slope: float,
    intercept_w: float,
    noise_frac: float = 0.02,
    rate_hz: float = 10.0,
    seed: int = 0,
) -> Path:
    """The log a wall meter would have written over ``document``'s run: inside each window
    ``slope x`` the counter's power ``+ intercept_w``, between windows the idle level."""
    spans = sorted(
        (w["start_wall_s"], w["end_wall_s"], w["energy_j"] / w["duration_s"])
        for m in document["measurements"]
        for w in m["windows"]
    ) + sorted((w["start_wall_s"], w["end_wall_s"], w["energy_j"] / w["duration_s"])
               for w in document["idle_windows"])  # fmt: skip
    spans.sort()
    starts = np.array([s[0] for s in spans])
    idle_w = float(np.mean([w["energy_j"] / w["duration_s"] for w in document["idle_windows"]]))

    def power_w(t: float) -> float:
        i = int(np.searchsorted(starts, t, side="right")) - 1
        inside = i >= 0 and t < spans[i][1]
        return slope * (spans[i][2] if inside else idle_w) + intercept_w

    first, last = spans[0][0] - 5.0, spans[-1][1] + 5.0
    return write_meter_log(
        path, power_w, start_unix_s=first, duration_s=last - first, rate_hz=rate_hz,
        noise_frac=noise_frac, seed=seed, style="fnb58",
    )  # fmt: skip
