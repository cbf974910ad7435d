"""Coverage of the 95% interval under each stopping rule, by seeded simulation.

Window values are drawn around a known truth with a known spread (normal, and heavier-tailed
Student t with 5 degrees of freedom); each rule decides when to stop and reports an interval;
the bench counts how often the interval covers the truth and how many windows it took:

* fixed 5 and fixed 10 windows (Student t);
* first crossing: stop at the first window (from 5) whose t-interval is within the target
  (joulebench before Stein's rule; about 92% coverage at 5% noise, 2% target);
* Stein's two-stage rule, as joulebench runs it (``harness.stopping`` and ``summarize``);
* Stein's rule through ``joulebench.measure`` itself, on a simulated meter and a fake clock;
* the demo's rule (``joulebench.demo``): a pilot of 5 windows, a 5% target and the default
  tier's cap, against a pilot of 10 at the same target and cap (the pilot is always taken
  whole): what a shorter pilot costs in coverage (nothing, in theory: Stein's interval is
  exact for any pilot of 2 or more under normal noise) and saves in windows, with normal and
  heavy-tailed noise of 2%, 5%, 10% and 15% (what this 2-core VM's windows showed).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from common import parser, write_json
from joulebench import measure
from joulebench.demo import DEMO_PILOT_WINDOWS, DEMO_TARGET_CI, STANDARD
from joulebench.devices.simulated import SimulatedMeter
from joulebench.harness import stopping
from joulebench.harness.stats import summarize
from joulebench.harness.telemetry import HostSnapshot
from joulebench.testing import BusyTrace, FakeClock

TRUTH = 1.0
TARGET = 0.02
DEMO_CAP = STANDARD.max_windows
T_TABLE = {n: float(stats.t.ppf(0.975, n - 1)) for n in range(2, 5000)}


def draw(rng: np.random.Generator, noise: float, shape: str, n: int) -> np.ndarray:
    if shape == "normal":
        return rng.normal(TRUTH, noise * TRUTH, n)
    # Student t(5), scaled to the same standard deviation: heavier tails than normal
    return TRUTH + noise * TRUTH * rng.standard_t(5, n) / math.sqrt(5 / 3)


def fixed(rng, noise, shape, n):
    values = draw(rng, noise, shape, n)
    half = T_TABLE[n] * values.std(ddof=1) / math.sqrt(n)
    return abs(values.mean() - TRUTH) <= half, n


def first_crossing(rng, noise, shape, cap=200):
    values = list(draw(rng, noise, shape, 5))
    while True:
        array = np.asarray(values)
        half = T_TABLE[array.size] * array.std(ddof=1) / math.sqrt(array.size)
        if half <= TARGET * abs(array.mean()) or array.size >= cap:
            return abs(array.mean() - TRUTH) <= half, array.size
        values.extend(draw(rng, noise, shape, 1))


def stein(rng, noise, shape, cap=200):
    pilot = draw(rng, noise, shape, stopping.pilot_size(5))
    planned = min(stopping.planned_windows(pilot, TARGET), cap)
    values = np.concatenate([pilot, draw(rng, noise, shape, planned - pilot.size)])
    summary = summarize(values, pilot=pilot.size)
    return abs(summary.mean - TRUTH) <= summary.ci95, planned


def stein_capped(rng, noise, shape, pilot_windows, target, cap):
    pilot = draw(rng, noise, shape, stopping.pilot_size(5, pilot_windows))
    # as the runner: the pilot is always taken whole, then up to the cap
    planned = max(pilot.size, min(stopping.planned_windows(pilot, target), cap))
    values = np.concatenate([pilot, draw(rng, noise, shape, planned - pilot.size)])
    summary = summarize(values, pilot=pilot.size)
    return abs(summary.mean - TRUTH) <= summary.ci95, planned


def demo_study(runs: int) -> list[dict[str, Any]]:
    """The demo's 5-window pilot against a 10-window one, at the demo's target and cap."""
    rows = []
    for noise in (0.02, 0.05, 0.10, 0.15):
        for shape in ("normal", "t5"):
            for pilot in (DEMO_PILOT_WINDOWS, 10):
                rng = np.random.default_rng(20261203)
                outcomes = [
                    stein_capped(rng, noise, shape, pilot, DEMO_TARGET_CI, DEMO_CAP)
                    for _ in range(runs)
                ]
                name = f"pilot {pilot}, cap {DEMO_CAP}"
                rows.append(summary_row(name, noise, shape, runs, outcomes))
    return rows


def through_measure(seed: int, noise: float) -> tuple[bool, int]:
    clock = FakeClock()
    trace = BusyTrace(clock, 5.0, 25.0)
    meter = SimulatedMeter(trace, noise_frac=noise, seed=seed, clock=clock)
    r = measure(trace.workload(0.01), meter, clock=clock, seed=seed, target_ci=TARGET,
                warmup_calls=1, warmup_s=0.0, idle=False,
                host_probe=lambda: HostSnapshot(None, None, None, None))  # fmt: skip
    return abs(r.energy_per_item_j.mean - 0.25) <= r.energy_per_item_j.ci95, r.energy_per_item_j.n


def study(runs: int, measured_runs: int) -> list[dict[str, Any]]:
    rows = []
    for noise in (0.05, 0.10):
        for shape in ("normal", "t5"):
            rules = {
                "fixed 5": lambda rng, noise=noise, shape=shape: fixed(rng, noise, shape, 5),
                "fixed 10": lambda rng, noise=noise, shape=shape: fixed(rng, noise, shape, 10),
                "first crossing": lambda rng, noise=noise, shape=shape: first_crossing(
                    rng, noise, shape
                ),
                "stein two-stage": lambda rng, noise=noise, shape=shape: stein(rng, noise, shape),
            }
            for name, rule in rules.items():
                rng = np.random.default_rng(20261202)
                outcomes = [rule(rng) for _ in range(runs)]
                rows.append(summary_row(name, noise, shape, runs, outcomes))
        outcomes = [through_measure(seed, noise) for seed in range(measured_runs)]
        rows.append(summary_row("stein via measure()", noise, "normal", measured_runs, outcomes))
    return rows


def summary_row(name, noise, shape, runs, outcomes) -> dict[str, Any]:
    covered = np.mean([c for c, _ in outcomes])
    windows = [n for _, n in outcomes]
    return {"rule": name, "noise": noise, "shape": shape, "runs": runs,
            "coverage": float(covered),
            "coverage_se": float(math.sqrt(covered * (1 - covered) / runs)),
            "mean_windows": float(np.mean(windows)),
            "p90_windows": float(np.percentile(windows, 90))}  # fmt: skip


def print_rows(rows: list[dict[str, Any]]) -> None:
    print(f"  {'rule':<20} {'noise':>5} {'shape':>6} {'runs':>6} {'coverage':>9} "
          f"{'± se':>6} {'windows':>8} {'p90':>5}")  # fmt: skip
    for r in rows:
        print(f"  {r['rule']:<20} {r['noise']:>5.0%} {r['shape']:>6} {r['runs']:>6} "
              f"{r['coverage']:>9.1%} {r['coverage_se']:>6.1%} {r['mean_windows']:>8.1f} "
              f"{r['p90_windows']:>5.0f}")  # fmt: skip


def main() -> None:
    args = parser(__doc__, "fewer simulated runs (for CI)").parse_args()
    runs, measured_runs = (400, 40) if args.quick else (10000, 1000)
    rows = study(runs, measured_runs)
    print(f"95% interval coverage by stopping rule, target ±{TARGET:.0%} (adaptive rules), "
          f"truth known; seeded")  # fmt: skip
    print_rows(rows)
    demo_rows = demo_study(runs)
    print(f"\nthe demo's rule: Stein's with a target of ±{DEMO_TARGET_CI:.0%} and a cap of "
          f"{DEMO_CAP} windows; a pilot of {DEMO_PILOT_WINDOWS} against one of 10")  # fmt: skip
    print_rows(demo_rows)
    demo = {"target_rel_ci95": DEMO_TARGET_CI, "cap_windows": DEMO_CAP, "rows": demo_rows}
    write_json(args.json, "stopping", {"target_rel_ci95": TARGET, "rows": rows, "demo": demo})


if __name__ == "__main__":
    main()
