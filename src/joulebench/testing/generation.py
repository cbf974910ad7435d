"""Simulated generation data with a known truth, for checking the intervals of a generation
run (``tasks.generation`` and ``harness.tokens``) by seeded simulation."""

from __future__ import annotations

import numpy as np

MEAN_LOSS_NATS = 3.4
"""The population's mean token loss: its corpus perplexity is exp(3.4)."""
LOSS_SHAPE = 100.0
"""Gamma shape of each document's mean loss (sd 0.34 nats: documents differ, as articles do)."""


def document_losses(
    rng: np.random.Generator,
    count: int,
    mean_loss: float = MEAN_LOSS_NATS,
    shape: float = LOSS_SHAPE,
) -> tuple[list[float], list[int]]:
    """``count`` held-out documents of 40-128 tokens: each one's summed negative
    log-likelihood (token losses exponential around the document's own mean) and its
    predicted tokens. Lengths are independent of loss, so the truth is exp(``mean_loss``)."""
    lengths = rng.integers(40, 129, count)
    means = rng.gamma(shape, mean_loss / shape, count)
    nll = [float(rng.exponential(mu, n - 1).sum()) for mu, n in zip(means, lengths, strict=True)]
    return nll, [int(n - 1) for n in lengths]


def token_windows(
    rng: np.random.Generator,
    drift: float,
    windows: int = 5,
    full_j: float = 10.0,
    prefill_j: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-request energy of ``windows`` full and prefill windows (10% noise each) whose
    rounds share a drift of sd ``drift`` J (a fifth of it in the shorter prefill windows)."""
    rounds = rng.normal(0, drift, windows)
    full = full_j + rounds + rng.normal(0, 0.1 * full_j, windows)
    prefill = prefill_j + 0.2 * rounds + rng.normal(0, 0.1 * prefill_j, windows)
    return full, prefill
