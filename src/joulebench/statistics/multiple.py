"""Many tests at once: Holm's step-down (family-wise error) or Benjamini-Hochberg (false
discovery rate) adjusted p-values.

``compare`` tests every variant x metric; without a correction, twenty true "no change" tests
give about one false alarm at p < 0.05. Holm's adjustment keeps the chance of any false alarm
at 5% and is never weaker than Bonferroni; Benjamini-Hochberg (scipy's
``false_discovery_control``) keeps the expected share of false alarms among the changes it
reports at 5%, and finds more real changes when many are tested.

Some tests cannot reach significance whatever the data: McNemar's exact test on a variant that
gave the same answers in both runs (no discordant example) can only give p = 1, and one with
five discordant examples no less than p = 0.0625. Counting them in the correction only makes
every other test's bar higher. Tarone's rule (Tarone 1990; with Holm, Hommel & Krummenauer
1998) leaves them out: the family is the tests whose smallest possible p-value is at most
alpha / K, for the smallest K that leaves at most K tests in it. A test left out keeps its raw
p-value times K (never below 0.05, so never significant).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import false_discovery_control

CORRECTIONS = ("holm", "bh", "none")
DESCRIPTIONS = {
    "holm": "Holm (family-wise error 5%)",
    "bh": "Benjamini-Hochberg (false discovery rate 5%)",
    "none": "none (each test on its own at 5%)",
}


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the given order."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(stepped)
    return adjusted.tolist()


def tarone_family(floors: Sequence[float], alpha: float = 0.05) -> tuple[list[bool], int]:
    """Which tests can reach significance (Tarone's rule), and K.

    ``floors``: each test's smallest possible p-value (0 for a continuous test). K is the
    smallest number such that at most K tests have a floor at or below ``alpha / K``.
    """
    m = len(floors)
    for k in range(1, m + 1):
        inside = [floor <= alpha / k for floor in floors]
        if sum(inside) <= k:
            return inside, k
    return [True] * m, m


def adjust(
    p_values: Sequence[float], correction: str, floors: Sequence[float] | None = None
) -> list[float]:
    """Adjusted p-values by ``correction`` (``holm``, ``bh`` or ``none``).

    ``floors``: each test's smallest possible p-value; tests that cannot reach significance
    are left out of the family (:func:`tarone_family`) and keep ``min(1, p x K)``.
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; choose from {', '.join(CORRECTIONS)}")
    if not p_values or correction == "none":
        return [float(p) for p in p_values]
    inside, k = tarone_family(floors if floors is not None else [0.0] * len(p_values))
    family = [float(p) for p, keep in zip(p_values, inside, strict=True) if keep]
    if correction == "holm":
        adjusted = holm(family)
    else:
        adjusted = [float(p) for p in false_discovery_control(np.asarray(family, dtype=float))]
    found = iter(adjusted)
    return [
        next(found) if keep else min(1.0, float(p) * k)
        for p, keep in zip(p_values, inside, strict=True)
    ]
