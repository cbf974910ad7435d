"""Two variants scored on the same examples: McNemar's exact test and Newcombe's interval.

Accuracy measured on one test set is compared example by example. Only the discordant
examples (right for one variant, wrong for the other) carry information about which is more
accurate; McNemar's exact test asks whether they split evenly (a binomial test on them, from
scipy). The 95% interval of the difference in accuracy is Newcombe's hybrid score interval for
paired proportions (Newcombe 1998, method 10), built from the two Wilson intervals and the
correlation of the outcomes; it keeps close to its stated coverage even with few discordant
examples, where a Wald interval does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

MCNEMAR = "mcnemar-exact"
"""The test's name in ``compare`` output."""


@dataclass(frozen=True, slots=True)
class PairedAccuracy:
    """B's accuracy minus A's on the same examples, its 95% interval and McNemar's p-value."""

    n: int
    a_only: int
    """Examples A got right and B got wrong."""
    b_only: int
    """Examples B got right and A got wrong."""
    difference: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def discordant(self) -> int:
        """Examples the two variants disagree on (right for one, wrong for the other)."""
        return self.a_only + self.b_only


def mcnemar_floor(discordant: int) -> float:
    """The smallest p-value McNemar's exact test can give with this many discordant
    examples (all of them one way): ``2 x 0.5^d``, 1 with none."""
    return 1.0 if discordant == 0 else min(1.0, 2 * 0.5**discordant)


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of ``b_only`` of the discordant
    examples at one half (1.0 when there are none)."""
    discordant = a_only + b_only
    if discordant == 0:
        return 1.0
    return float(binomtest(b_only, discordant, 0.5).pvalue)


def _wilson(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """The Wilson score interval, as the accuracies in the results have it (scipy)."""
    interval = binomtest(successes, n).proportion_ci(confidence, method="wilson")
    return float(interval.low), float(interval.high)


def newcombe_interval(
    both: int, a_only: int, b_only: int, neither: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's (1998, method 10) interval for B's accuracy minus A's, paired examples.

    ``both``: right for both; ``a_only``: right for A only; ``b_only``: right for B only;
    ``neither``: wrong for both.
    """
    n = both + a_only + b_only + neither
    if n == 0:
        raise ValueError("no examples to compare")
    right_b, right_a = both + b_only, both + a_only
    p_b, p_a = right_b / n, right_a / n
    low_b, high_b = _wilson(right_b, n, confidence)
    low_a, high_a = _wilson(right_a, n, confidence)
    denominator = (both + b_only) * (a_only + neither) * (both + a_only) * (b_only + neither)
    phi = (both * neither - b_only * a_only) / math.sqrt(denominator) if denominator else 0.0
    delta = _combined(p_b - low_b, high_a - p_a, phi)
    epsilon = _combined(high_b - p_b, p_a - low_a, phi)
    difference = p_b - p_a
    return max(-1.0, difference - delta), min(1.0, difference + epsilon)


def _combined(first: float, second: float, phi: float) -> float:
    """sqrt(x^2 - 2 phi x y + y^2): two one-sided widths joined, with their correlation."""
    return math.sqrt(max(0.0, first**2 - 2 * phi * first * second + second**2))


def paired_accuracy(correct_a: np.ndarray, correct_b: np.ndarray) -> PairedAccuracy:
    """Compare two variants' right/wrong outcomes on the same examples (B - A)."""
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"outcomes of different shapes: {a.shape} vs {b.shape}")
    both = int((a & b).sum())
    a_only = int((a & ~b).sum())
    b_only = int((~a & b).sum())
    neither = int(a.size - both - a_only - b_only)
    low, high = newcombe_interval(both, a_only, b_only, neither)
    return PairedAccuracy(
        n=int(a.size),
        a_only=a_only,
        b_only=b_only,
        difference=(b_only - a_only) / a.size,
        ci_low=low,
        ci_high=high,
        p_value=mcnemar_exact(a_only, b_only),
    )
