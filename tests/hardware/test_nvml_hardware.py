"""Runs on a machine with an NVIDIA GPU and its driver; skips with the reason elsewhere."""

from __future__ import annotations

import time

import pytest

from joulebench import measure
from joulebench.devices import NvmlMeter

availability = NvmlMeter.probe()
pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(not availability, reason=f"no usable NVML: {availability.message()}"),
]


def test_nvml_idle_window_reads_plausible_board_power():
    meter = NvmlMeter(devices=[0])
    meter.begin()
    time.sleep(2.0)
    readings = {r.domain: r for r in meter.end()}
    meter.close()
    assert 5.0 < readings["gpu"].power_w < 1500.0
    assert readings["gpu:0"].details["name"]


def test_measure_a_cuda_matmul_with_nvml():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    a = torch.randn(4096, 4096, device="cuda")

    def matmul(n: int) -> None:
        for _ in range(n):
            a @ a

    r = measure(matmul, "auto", windows=5, min_window_s=2.0, warmup_s=2.0)
    assert r.meter == "nvml"
    assert r.energy_per_item_j.mean > 0
    assert r.net_energy_per_item_j is not None
