"""The history's step detector and gate on seeded series with known truth.

Each point is one run: the truth x (1 + run-to-run noise, 3% as issue 15 measured) with the
run's own standard error from its windows (0.35%: 1% per window over 8 windows), which
understates the spread, as real runs do. Over many seeds:

* **steps**: how often a series of 30 (or 40) runs with no step shows one (false alarm),
  and how often a 5% or 10% step is found within 3 runs of where it is, by its place;
* **gate** (``compare --history --last 10``): how often a stable eleventh run is judged
  regressed (threshold +5%, and p < 0.05 alone), and how often a 5%, 10% or 15% regression is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from common import parser, write_json
from joulebench.history.gate import prediction_change
from joulebench.history.steps import detect_steps

RUN_NOISE, WINDOW_SE = 0.03, 0.0035


def series(rng: np.random.Generator, n: int, step_at: int | None, step: float) -> np.ndarray:
    truth = np.ones(n)
    if step_at is not None:
        truth[step_at:] *= 1 + step
    return truth * (1 + RUN_NOISE * rng.standard_normal(n))


def step_row(
    rng: np.random.Generator, runs: int, n: int, step_at: int | None, step: float
) -> dict[str, Any]:
    found = extra = 0
    for _ in range(runs):
        values = series(rng, n, step_at, step)
        steps = detect_steps(values, values * WINDOW_SE)
        hits = [s for s in steps if step_at is not None and abs(s.index - step_at) <= 3]
        found += bool(hits)
        extra += len(steps) > len(hits)
    return {
        "case": f"{n} runs, " + (f"{step:.0%} step at run {step_at}" if step_at else "no step"),
        "runs": runs,
        "found_within_3_runs": found / runs if step_at else None,
        "series_with_a_false_step": extra / runs,
    }


def gate_row(rng: np.random.Generator, runs: int, regression: float) -> dict[str, Any]:
    regressed = significant = 0
    for _ in range(runs):
        past = 1 + RUN_NOISE * rng.standard_normal(10)
        candidate = (1 + regression) * (1 + RUN_NOISE * rng.standard_normal())
        diff, _, p_value = prediction_change(past, candidate)
        significant += p_value is not None and p_value < 0.05
        regressed += p_value is not None and p_value < 0.05 and diff / past.mean() > 0.05
    return {
        "case": f"gate, last 10 runs, candidate {regression:+.0%}",
        "runs": runs,
        "p_below_0.05": significant / runs,
        "regressed_at_threshold_5pct": regressed / runs,
    }


def main() -> None:
    args = parser(__doc__, "fewer seeds (for CI)").parse_args()
    runs = 200 if args.quick else 2000
    rng = np.random.default_rng(20261202)
    rows = [
        step_row(rng, runs, 30, None, 0.0),
        step_row(rng, runs, 40, None, 0.0),
        step_row(rng, runs, 40, 20, 0.05),
        step_row(rng, runs, 40, 35, 0.05),
        step_row(rng, runs, 40, 20, 0.10),
        step_row(rng, runs, 40, 35, 0.10),
    ]
    rows += [gate_row(rng, runs * 2, r) for r in (0.0, 0.05, 0.10, 0.15)]
    for row in rows:
        shown = {k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in row.items()}
        print(" | ".join(f"{k}: {v}" for k, v in shown.items() if v is not None))
    write_json(args.json, "history", {"run_noise": RUN_NOISE, "window_se": WINDOW_SE, "rows": rows})


if __name__ == "__main__":
    main()
