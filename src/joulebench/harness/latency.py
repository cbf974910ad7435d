"""Latency percentiles from every batch run inside the energy windows.

Per batch: the time of each full batch (at the run's batch size; a short last batch is left
out of these, since it is not at that size). Per inference: each batch's time divided by its
examples, over every batch. A percentile is given only where enough batches back it
(:data:`MIN_SAMPLES`), else it is None and the result is flagged, never interpolated between a
handful of samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from joulebench.harness.result import Window

MIN_SAMPLES = {50: 2, 95: 20, 99: 100}
"""Batches needed for each percentile: p95 needs 20 (one sample in 20 above it), p99 100."""


def percentiles(values: Sequence[float]) -> dict[int, float | None]:
    """p50, p95 and p99 of ``values``, each None where fewer samples than it needs."""
    array = np.asarray(values, dtype=float)
    return {
        q: float(np.percentile(array, q)) if array.size >= need else None
        for q, need in MIN_SAMPLES.items()
    }


@dataclass(frozen=True)
class Latency:
    """Percentiles of batch and per-inference time, with the samples behind them."""

    batch_size: int
    batch_samples: int
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    item_samples: int
    per_item_p50_s: float | None
    per_item_p95_s: float | None
    per_item_p99_s: float | None

    @property
    def missing(self) -> list[str]:
        """Percentiles left out for want of samples (``p95``, ``p99``)."""
        return [
            f"p{q}"
            for q, value in ((50, self.p50_s), (95, self.p95_s), (99, self.p99_s))
            if value is None
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return asdict(self)


def latency_from_windows(windows: Sequence[Window], batch_size: int) -> Latency:
    """The latency figures of every batch timed in ``windows``."""
    pairs = [(t, k) for w in windows for t, k in zip(w.latencies_s, w.latency_items, strict=True)]
    full = [t for t, k in pairs if k == batch_size]
    per_item = [t / k for t, k in pairs if k > 0]
    batch = percentiles(full)
    item = percentiles(per_item)
    return Latency(
        batch_size,
        len(full),
        batch[50],
        batch[95],
        batch[99],
        len(per_item),
        item[50],
        item[95],
        item[99],
    )
