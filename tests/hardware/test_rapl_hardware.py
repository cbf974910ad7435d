"""Runs on a machine with readable RAPL counters; skips with the reason elsewhere."""

from __future__ import annotations

import time

import pytest

from joulebench import measure
from joulebench.devices import RaplMeter

availability = RaplMeter.probe()
pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(not availability, reason=f"no usable RAPL: {availability.message()}"),
]


def busy(n: int) -> None:
    for _ in range(n):
        sum(i * i for i in range(2000))


def test_rapl_window_of_real_work_gives_plausible_power():
    meter = RaplMeter()
    meter.begin()
    deadline = time.perf_counter() + 2.0
    while time.perf_counter() < deadline:
        busy(10)
    readings = {r.domain: r for r in meter.end()}
    meter.close()
    assert 0.5 < readings["cpu"].power_w < 1000.0
    assert readings["cpu"].method == "counter"


def test_measure_with_rapl_gives_gross_above_net():
    r = measure(busy, "rapl", windows=5, min_window_s=2.0, warmup_s=1.0)
    assert r.method == "counter"
    assert (
        r.net_energy_per_item_j is None or r.net_energy_per_item_j.mean < r.energy_per_item_j.mean
    )
