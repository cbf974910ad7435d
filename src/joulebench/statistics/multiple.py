"""Many tests at once: Holm's step-down (family-wise error) or Benjamini-Hochberg (false
discovery rate) adjusted p-values.

``compare`` tests every variant x metric; without a correction, twenty true "no change" tests
give about one false alarm at p < 0.05. Holm's adjustment keeps the chance of any false alarm
at 5% and is never weaker than Bonferroni; Benjamini-Hochberg (scipy's
``false_discovery_control``) keeps the expected share of false alarms among the changes it
reports at 5%, and finds more real changes when many are tested.
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


def adjust(p_values: Sequence[float], correction: str) -> list[float]:
    """Adjusted p-values by ``correction`` (``holm``, ``bh`` or ``none``)."""
    if correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; choose from {', '.join(CORRECTIONS)}")
    if not p_values or correction == "none":
        return [float(p) for p in p_values]
    if correction == "holm":
        return holm(p_values)
    return [float(p) for p in false_discovery_control(np.asarray(p_values, dtype=float))]
