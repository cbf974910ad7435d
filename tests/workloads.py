"""Workloads with a known cost, imported by spawned workers in the integration tests."""

from __future__ import annotations

import time

import numpy as np

SECONDS_PER_ITEM = 0.004


def four_ms_per_item(batch):
    """Exactly 4 ms of (sleeping) work per example: the work allows at most 250 items/s."""
    deadline = time.perf_counter() + SECONDS_PER_ITEM * len(batch)
    while time.perf_counter() < deadline:
        time.sleep(max(0.0, min(0.001, deadline - time.perf_counter())))
    return np.zeros(len(batch), dtype=int)
