"""Latency percentiles from the energy windows' batches, only where enough batches back them."""

from __future__ import annotations

import numpy as np
import pytest

from joulebench.harness.latency import latency_from_windows
from joulebench.harness.result import Window


def window(latencies, items):
    return Window("a", 0, len(latencies), sum(items), 0.0, 1.0, 1.0, 1.0, 1.0, (), {}, {},
                  latencies_s=tuple(latencies), latency_items=tuple(items))  # fmt: skip


def test_full_batches_give_batch_percentiles_and_short_ones_only_per_item_figures():
    rng = np.random.default_rng(0)
    times = rng.uniform(0.1, 0.2, 150)
    windows = [window([*times[:75].tolist(), 0.01], [32] * 75 + [4]),
               window(times[75:].tolist(), [32] * 75)]  # fmt: skip
    latency = latency_from_windows(windows, 32)
    assert latency.batch_samples == 150 and latency.item_samples == 151
    assert latency.p50_s == pytest.approx(np.percentile(times, 50))
    assert latency.p99_s == pytest.approx(np.percentile(times, 99))
    per_item = np.concatenate([times / 32, [0.01 / 4]])
    assert latency.per_item_p95_s == pytest.approx(np.percentile(per_item, 95))
    assert latency.missing == []


def test_a_handful_of_batches_gives_no_p95_or_p99_rather_than_an_interpolation():
    latency = latency_from_windows([window([0.1] * 12, [8] * 12)], 8)
    assert latency.p50_s == pytest.approx(0.1)
    assert latency.p95_s is None and latency.p99_s is None
    assert latency.missing == ["p95", "p99"]
    forty = latency_from_windows([window([0.1] * 40, [8] * 40)], 8)
    assert forty.p95_s is not None and forty.p99_s is None


def test_the_few_samples_flag_says_what_each_missing_percentile_needs():
    from joulebench.harness.variant_run import _latency_flag

    latency = latency_from_windows([window([0.1] * 12, [4] * 12)], 4)
    flag = _latency_flag(latency)
    assert flag is not None and flag.code == "few-latency-samples"
    assert "12 full batches of 4 were timed and p95 needs 20 and p99 needs 100" in flag.message
