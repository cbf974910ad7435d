"""How often `compare` cries wolf, and how often it catches a real change, by seeded simulation.

Runs (part 1). Each run's energy and time per inference are a known truth times a per-run
offset (normal, ``--run-offset``, default 3%: what a new process, another moment's clocks and
temperature bring) times per-window noise (normal, 2%). A and B are made as ``joulebench run
--repeat K`` writes them (K runs of 8 windows per variant, one variant, accuracy unchanged
and paired), written to disk and compared by ``joulebench.results.compare.compare`` at its
defaults (thresholds energy +5%, time +5%, accuracy -1 point; Holm's correction over all
tests). With no true change, any "regressed" verdict is a false alarm; with B's energy truly
5% (or 10%) higher, a "regressed" energy verdict is a catch. K = 1 is judged on windows (all
compare can do with one run per side); K >= 2 on the runs' means.

Accuracy (part 2). A base model right on 90% of 300 examples; a variant that changes its
answer on some examples. With no true change (as many examples turned right as wrong), how
often is a change called significant; with a true drop of 2 points, how often is it caught:
McNemar's exact test (paired, what compare uses when outcomes are recorded) against the
two-proportion z-test (what it falls back to). And the coverage of Newcombe's paired 95%
interval of the difference.

A task's own metric (part 3). Two variants' per-example errors on 100 examples, B's = A's +
0.05 + noise (sd 0.3); the metric is the mean error, so the true difference is 0.05. The
paired bootstrap (both variants resampled on the same examples, 2,000 resamples each, as a
task of the user's own stores them) gives a 95% percentile interval of the difference: how
often it covers 0.05.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from common import parser, write_json
from joulebench.results.compare import compare
from joulebench.statistics.bootstrap import bca_interval, paired_difference
from joulebench.statistics.paired import paired_accuracy
from joulebench.testing.documents import simulated_runs

WINDOWS = 8
WINDOW_NOISE = 0.02
SEED = 20261202


def runs_study(trials: int, offset: float) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        a_path, b_path = Path(folder) / "a.json", Path(folder) / "b.json"
        for runs in (1, 3, 5):
            for change in (0.0, 0.05, 0.10):
                rng = np.random.default_rng([SEED, runs, int(change * 100)])
                regressed = energy_caught = 0
                for _ in range(trials):
                    shape = {"runs": runs, "windows": WINDOWS, "run_offset": offset,
                             "window_noise": WINDOW_NOISE}  # fmt: skip
                    a = simulated_runs(rng, **shape)
                    b = simulated_runs(rng, **shape, energy_factor=1 + change)
                    a_path.write_text(json.dumps(a))
                    b_path.write_text(json.dumps(b))
                    changes, _ = compare(a_path, b_path)
                    bad = [c for c in changes if c.verdict == "regressed"]
                    regressed += bool(bad)
                    energy_caught += any(c.metric == "energy_j" for c in bad)
                rate = (energy_caught if change else regressed) / trials
                rows.append({"runs_per_side": runs, "true_energy_change": change,
                             "trials": trials, "run_offset": offset,
                             "window_noise": WINDOW_NOISE, "windows_per_run": WINDOWS,
                             "measure": "catch rate (energy regressed)" if change
                             else "false-alarm rate (any regressed)",
                             "rate": rate,
                             "rate_se": math.sqrt(rate * (1 - rate) / trials)})  # fmt: skip
    return rows


def z_test_p(correct_a: int, correct_b: int, n: int) -> float:
    from scipy import stats

    pooled = (correct_a + correct_b) / (2 * n)
    se = math.sqrt(pooled * (1 - pooled) * 2 / n)
    return 1.0 if se == 0 else float(2 * stats.norm.sf(abs(correct_b - correct_a) / n / se))


def accuracy_study(trials: int) -> list[dict[str, Any]]:
    rows = []
    n = 300
    # (name, chance a right answer turns wrong, chance a wrong answer turns right)
    cases = [("no true change", 0.02, 0.18), ("true drop of 2 points", 0.0333, 0.10)]
    for name, lose, gain in cases:
        rng = np.random.default_rng([SEED, int(lose * 1e4)])
        truth = 0.9 * (1 - lose) + 0.1 * gain - 0.9
        mcnemar = z_test = covered = 0
        for _ in range(trials):
            base = rng.random(n) < 0.9
            flip = np.where(base, rng.random(n) < lose, rng.random(n) < gain)
            variant = base ^ flip
            paired = paired_accuracy(base, variant)
            mcnemar += paired.p_value < 0.05
            z_test += z_test_p(int(base.sum()), int(variant.sum()), n) < 0.05
            covered += paired.ci_low <= truth <= paired.ci_high
        rows.append({"case": name, "examples": n, "trials": trials,
                     "true_difference": truth,
                     "significant_mcnemar": mcnemar / trials,
                     "significant_two_proportion_z": z_test / trials,
                     "newcombe_coverage": covered / trials})  # fmt: skip
    return rows


def metric_study(trials: int) -> dict[str, Any]:
    rng = np.random.default_rng([SEED, 3])
    truth, n, covered, significant = 0.05, 100, 0, 0
    for trial in range(trials):
        errors_a = rng.exponential(size=n)
        errors_b = errors_a + truth + rng.normal(0, 0.3, n)
        a, b = (
            bca_interval(lambda i, e=errors: float(e[i].mean()), n, seed=trial, resamples=2000)[2]
            for errors in (errors_a, errors_b)
        )
        _, low, high, p_value = paired_difference(a, b)
        covered += low <= truth <= high
        significant += p_value < 0.05
    return {"examples": n, "trials": trials, "true_difference": truth, "resamples": 2000,
            "coverage": covered / trials, "significant": significant / trials}  # fmt: skip


def main() -> None:
    args = parser(__doc__, "fewer simulated trials (for CI)").parse_args()
    trials, accuracy_trials, metric_trials = (40, 400, 40) if args.quick else (1000, 10000, 1000)
    offset = 0.03
    runs = runs_study(trials, offset)
    print(f"compare at its defaults; per-run offset {offset:.0%}, window noise "
          f"{WINDOW_NOISE:.0%}, {WINDOWS} windows per run; seeded")  # fmt: skip
    print(
        f"  {'K runs/side':>11} {'true change':>11} {'trials':>6} {'rate':>7} {'± se':>6}  measure"
    )
    for r in runs:
        print(f"  {r['runs_per_side']:>11} {r['true_energy_change']:>+11.0%} {r['trials']:>6} "
              f"{r['rate']:>7.1%} {r['rate_se']:>6.1%}  {r['measure']}")  # fmt: skip
    accuracy = accuracy_study(accuracy_trials)
    print("accuracy, 300 examples, base 90% right; significant at p < 0.05 (one test)")
    print(f"  {'case':<22} {'truth':>7} {'McNemar':>8} {'2-prop z':>9} {'Newcombe cover':>15}")
    for r in accuracy:
        print(f"  {r['case']:<22} {r['true_difference']:>+7.2%} "
              f"{r['significant_mcnemar']:>8.1%} {r['significant_two_proportion_z']:>9.1%} "
              f"{r['newcombe_coverage']:>15.1%}")  # fmt: skip
    metric = metric_study(metric_trials)
    print(f"a task's own metric (mean error), {metric['examples']} examples, true difference "
          f"{metric['true_difference']}: paired bootstrap 95% interval covers it "
          f"{metric['coverage']:.1%} of {metric['trials']} trials; significant "
          f"{metric['significant']:.1%}")  # fmt: skip
    write_json(args.json, "compare", {"runs": runs, "accuracy": accuracy, "metric": metric})


if __name__ == "__main__":
    main()
