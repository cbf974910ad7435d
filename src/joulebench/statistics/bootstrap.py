"""Bootstrap intervals of a metric over examples (scipy's BCa), kept for paired comparisons.

A metric of the user's own (mAP, word error rate, ...) is a function of all the predictions at
once, so its uncertainty comes from resampling examples: scipy's ``bootstrap`` with the BCa
interval (bias-corrected and accelerated), 9,999 resamples where that costs under a second and
at least 2,000 otherwise. The resamples are drawn from a seeded generator over example
indices, so two variants scored on the same test set with the same seed are resampled on the
very same examples: the differences of their replicates are a paired bootstrap of the
difference of their metrics, which ``compare`` uses (:func:`paired_difference`). The
replicates are stored with the results (float32, base64) for that.
"""

from __future__ import annotations

import base64
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy

MIN_RESAMPLES = 2000
MAX_RESAMPLES = 9999
BUDGET_S = 1.0
"""9,999 resamples when they would cost under this many seconds, else ``MIN_RESAMPLES``."""
REPLICATES = "bootstrap"
"""Outcome kind in a results file: the metric's bootstrap replicates."""
PAIRED_BOOTSTRAP = "paired-bootstrap"
"""The test's name in ``compare`` output."""


def resamples_for(seconds_per_call: float, n: int) -> int:
    """9,999 when 9,999 resamples plus the ``n`` jackknife calls BCa makes fit in a second."""
    calls = MAX_RESAMPLES + n
    return MAX_RESAMPLES if seconds_per_call * calls < BUDGET_S else MIN_RESAMPLES


def check_resamples(resamples: int | None) -> None:
    """Refuse a resample count too small for a BCa interval (0: none; None: chosen)."""
    if resamples is None or resamples == 0:
        return
    if resamples < MIN_RESAMPLES:
        raise ValueError(
            f"bootstrap = {resamples}: too few resamples for a BCa interval; give 0 (no "
            f"interval), at least {MIN_RESAMPLES}, or leave it out ({MAX_RESAMPLES:,} where "
            f"that costs under a second, else {MIN_RESAMPLES:,})"
        )


@dataclass(frozen=True, eq=False)
class Replicates:
    """A metric's bootstrap replicates over the examples of one test set, and how they were
    drawn (two sets pair only when drawn alike)."""

    values: np.ndarray
    observed: float
    test_set: str
    n: int
    seed: int
    scipy_version: str = scipy.__version__

    def pairs_with(self, other: Replicates) -> bool:
        """True when both were resampled on the same examples (same test set, size, seed,
        number of resamples and scipy)."""
        return (
            self.test_set == other.test_set
            and self.n == other.n
            and self.seed == other.seed
            and self.values.size == other.values.size
            and self.scipy_version == other.scipy_version
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (the replicates as float32, base64)."""
        packed = np.asarray(self.values, dtype="<f4").tobytes()
        return {
            "kind": REPLICATES,
            "test_set": self.test_set,
            "n": self.n,
            "seed": self.seed,
            "resamples": int(self.values.size),
            "scipy": self.scipy_version,
            "observed": self.observed,
            "values": base64.b64encode(packed).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Replicates | None:
        """The replicates a results file holds, or None (none recorded, or damaged)."""
        if not isinstance(data, dict) or data.get("kind") != REPLICATES:
            return None
        try:
            values = np.frombuffer(base64.b64decode(data["values"], validate=True), dtype="<f4")
            if values.size != int(data["resamples"]):
                return None
            return cls(
                values.astype(float),
                float(data["observed"]),
                str(data["test_set"]),
                int(data["n"]),
                int(data["seed"]),
                str(data["scipy"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def bca_interval(
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    seed: int,
    resamples: int | None = None,
    test_set: str = "",
) -> tuple[float | None, float | None, Replicates]:
    """The 95% BCa interval of ``statistic(indices)`` over ``n`` examples, and its replicates.

    ``resamples`` None: 9,999 when that costs under a second (timed on one call), else 2,000.
    The interval is None where BCa cannot be made (every replicate equal, say); the
    replicates are kept either way.
    """
    check_resamples(resamples)
    indices = np.arange(n)
    started = time.perf_counter()
    observed = float(statistic(indices))
    chosen = resamples or resamples_for(time.perf_counter() - started, n)
    from scipy.stats import bootstrap  # here: scipy.stats costs a second at start-up

    with warnings.catch_warnings():  # a degenerate distribution: no interval, said below
        warnings.simplefilter("ignore")
        result = bootstrap(
            (indices,),
            lambda index: statistic(index.astype(int)),
            n_resamples=chosen,
            vectorized=False,
            method="BCa",
            random_state=np.random.default_rng(seed),
        )
    values = np.asarray(result.bootstrap_distribution, dtype=float)
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    replicates = Replicates(values, observed, test_set, n, seed)
    if not (math.isfinite(low) and math.isfinite(high)):
        return None, None, replicates
    return low, high, replicates


def paired_difference(a: Replicates, b: Replicates) -> tuple[float, float, float, float]:
    """B - A of the metric, its 95% paired-bootstrap percentile interval, and the two-sided
    bootstrap p-value (twice the smaller share of replicate differences on either side of 0,
    counting the observed one)."""
    if not a.pairs_with(b):
        raise ValueError("replicates of different examples, seeds or counts do not pair")
    differences = b.values - a.values
    observed = b.observed - a.observed
    low, high = np.percentile(differences, [2.5, 97.5])
    size = differences.size
    below = (np.count_nonzero(differences <= 0) + 1) / (size + 1)
    above = (np.count_nonzero(differences >= 0) + 1) / (size + 1)
    return observed, float(low), float(high), float(min(1.0, 2 * min(below, above)))
