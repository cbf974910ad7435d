"""Coverage of a generation run's 95% intervals, by seeded simulation against a known truth.

* **perplexity**: held-out documents of 40-128 tokens whose mean token loss differs from
  document to document (gamma-distributed: 3.4 nats, sd 0.34, as news articles differ); the
  corpus perplexity of the whole population is known (exp of the mean loss, lengths being
  independent of loss). A run scores D documents drawn from it, and its interval is
  ``Generation.score``'s (a t interval of log-perplexity over documents); how often it covers
  the truth, for D = 4, 8, 16, 48; beside it the BCa bootstrap's (scipy, 2,000 resamples over
  documents), which joulebench used first and which covered too seldom with few documents.
* **energy per output token**: decode = (full - prefill) / (new tokens - 1) from 5 full and 5
  prefill windows of different noise, with and without drift shared by a round's windows;
  how often ``harness.tokens.difference`` (Welch) covers the truth.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from common import parser, write_json
from joulebench.harness.stats import summarize
from joulebench.harness.tokens import difference
from joulebench.statistics.bootstrap import bca_interval
from joulebench.tasks.generation import Generation, GenerationOutput
from joulebench.testing.generation import MEAN_LOSS_NATS, document_losses, token_windows

NEW_TOKENS = 32


def perplexity_rows(rng: np.random.Generator, runs: int, bca_runs: int) -> list[dict[str, Any]]:
    truth = math.exp(MEAN_LOSS_NATS)
    rows = []
    for count in (4, 8, 16, 48):
        texts = tuple(f"document {i}" for i in range(count))
        covered, widths, bca_covered = 0, [], 0
        for run in range(runs):
            task = Generation(("a prompt",), texts, bootstrap=0, seed=run)
            nll, tokens = document_losses(rng, count)
            score = task.score(GenerationOutput(tuple(nll), tuple(tokens)), task.split().test)
            metric = score.metrics["perplexity"]
            covered += metric.ci_low <= truth <= metric.ci_high
            widths.append((metric.ci_high - metric.ci_low) / 2 / metric.value)
            if run < bca_runs:
                a, b = np.asarray(nll), np.asarray(tokens, dtype=float)
                low, high, _ = bca_interval(
                    lambda i, a=a, b=b: math.exp(a[i].sum() / b[i].sum()), count, seed=run,
                    resamples=2000,
                )  # fmt: skip
                bca_covered += low is not None and low <= truth <= high
        rows.append(
            {
                "case": f"perplexity, {count} documents, t interval of log-perplexity",
                "runs": runs,
                "coverage": covered / runs,
                "median_rel_half_width": float(np.median(widths)),
            }
        )
        rows.append(
            {
                "case": f"perplexity, {count} documents, BCa bootstrap (not used)",
                "runs": bca_runs,
                "coverage": bca_covered / bca_runs,
            }
        )
    return rows


def decode_rows(rng: np.random.Generator, runs: int) -> list[dict[str, Any]]:
    full_j, prefill_j = 10.0, 2.0
    truth = (full_j - prefill_j) / (NEW_TOKENS - 1)
    rows = []
    for drift in (0.0, 0.8):
        covered = 0
        for _ in range(runs):
            full, prefill = token_windows(rng, drift, full_j=full_j, prefill_j=prefill_j)
            d = difference(summarize(full), summarize(prefill), 1 / (NEW_TOKENS - 1))
            covered += d.low <= truth <= d.high
        rows.append(
            {
                "case": f"J per output token, 5+5 windows (10% and 10% noise), round drift "
                f"sd {drift / full_j:.0%} of full",
                "runs": runs,
                "coverage": covered / runs,
            }
        )
    return rows


def main() -> None:
    args = parser(__doc__, "fewer simulated runs (for CI)").parse_args()
    runs, bca_runs, decode_runs = (400, 40, 2000) if args.quick else (10000, 1000, 20000)
    rng = np.random.default_rng(20261203)
    rows = perplexity_rows(rng, runs, bca_runs) + decode_rows(rng, decode_runs)
    for row in rows:
        extra = (
            f", median half-width {row['median_rel_half_width']:.1%}"
            if "median_rel_half_width" in row
            else ""
        )
        print(f"{row['case']}: {row['coverage']:.1%} of {row['runs']}{extra}")
    write_json(args.json, "generation", {"rows": rows})


if __name__ == "__main__":
    main()
