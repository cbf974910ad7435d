"""Per-inference figures divide by the examples each window ran, whatever the batch size.

A test set of 10 examples does not split evenly at batch 4 (4, 4, 2): counting a short batch
as full would report more throughput than the work allows and too little energy per
inference. Measured with the simulated meter (a constant 15 W), energy per inference is
15 W x the time per inference, so it must match the work's own 4 ms.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from joulebench.harness.variant_run import run_variants
from joulebench.tasks import TextClassification, TextDataset, from_arrays
from joulebench.variants import VariantSpec
from tests.workloads import SECONDS_PER_ITEM

FUNCTION = f"{Path(__file__).parent.parent / 'workloads.py'}:four_ms_per_item"
POWER_W = 15.0
TEXTS = TextDataset(
    tuple(f"text {i}" for i in range(10)), tuple(i % 2 for i in range(10)), ("a", "b"), "ten"
)
FAST = {"meter": "simulated", "min_window_s": 0.5, "windows": 3, "warmup_s": 0.1,
        "warmup_calls": 2, "seed": 0}  # fmt: skip


def measure(task, batch_size):
    run = run_variants([VariantSpec(name="work", function=FUNCTION)], task,
                       batch_size=batch_size, **FAST)  # fmt: skip
    assert not run.failures, run.failures
    return run.results[0]


@pytest.mark.parametrize(
    "task",
    [
        from_arrays(np.arange(20.0).reshape(10, 2), np.arange(10) % 2),
        TextClassification(TEXTS, test_fraction=1.0),
    ],
    ids=["arrays", "texts"],
)
def test_ten_items_at_batch_4_and_5_cost_the_same_and_never_beat_the_work(task):
    at4, at5 = measure(task, 4), measure(task, 5)
    truth_j = POWER_W * SECONDS_PER_ITEM
    for result in (at4, at5):
        # every window counted the items of the batches it ran (4, 4, 2, 4, ...)
        assert all(w.items == sum(w.latency_items) for w in result.energy.windows)
        assert result.throughput_per_s <= 1 / SECONDS_PER_ITEM * 1.001
        assert result.energy_per_inference_j.mean >= truth_j * 0.999
        assert result.energy_per_inference_j.mean == pytest.approx(truth_j, rel=0.05)
    assert at4.throughput_per_s == pytest.approx(at5.throughput_per_s, rel=0.05)
    assert at4.energy_per_inference_j.mean == pytest.approx(
        at5.energy_per_inference_j.mean, rel=0.05
    )
    # the batch sizes seen: short batches are timed, but not as full ones
    assert {k for w in at4.energy.windows for k in w.latency_items} == {4, 2}
    assert at4.latency.batch_size == 4 and at4.latency.batch_samples > 0
