"""Runs on a machine with an NVIDIA GPU and its driver; skips with the reason elsewhere.

NVML's energy counter is checked against a second reading of the same energy: its power
samples integrated over a steady load of at least 10 s (within 5%, NVIDIA's stated accuracy).
A CUDA variant run through the harness is checked to be measured by NVML, with each window's
energy proportional to its work (a window that ended before the GPU did would not be).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from scipy.integrate import trapezoid

from joulebench.devices import NvmlMeter

availability = NvmlMeter.probe()
pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(not availability, reason=f"no usable NVML: {availability.message()}"),
]
LOAD_S = 12.0


def cuda_or_skip():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    return torch


def test_the_energy_counter_agrees_with_integrated_power_samples_within_5_percent():
    torch = cuda_or_skip()
    import pynvml

    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    try:
        pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    except pynvml.NVMLError:
        pytest.skip("this GPU has no energy counter")
    a = torch.randn(8192, 8192, device="cuda")
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            a @ a
            torch.cuda.synchronize()

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    time.sleep(3.0)  # steady state: the 1 s averaged power field has caught up
    times, watts = [], []
    start_mj = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    t0 = time.monotonic()
    while time.monotonic() - t0 < LOAD_S:
        times.append(time.monotonic())
        watts.append(pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0)
        time.sleep(0.02)
    end_mj = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    t1 = time.monotonic()
    stop.set()
    worker.join()
    pynvml.nvmlShutdown()
    counter_w = (end_mj - start_mj) / 1000.0 / (t1 - t0)
    sampled_w = trapezoid(watts, times) / (times[-1] - times[0])
    assert counter_w == pytest.approx(sampled_w, rel=0.05)
    assert counter_w > 50.0  # a GPU under matmul load draws far more than idle


def test_a_cuda_variant_is_measured_by_nvml_in_proportion_to_its_work():
    cuda_or_skip()
    import numpy as np

    from joulebench.harness.variant_run import run_variants
    from joulebench.tasks import from_arrays
    from joulebench.variants import VariantSpec

    function = f"{Path(__file__).parent.parent / 'workloads.py'}:cuda_matmul"
    task = from_arrays(np.zeros((64, 1)), np.zeros(64, dtype=int))
    run = run_variants([VariantSpec(name="matmul", function=function)], task, meter="auto",
                       device="cuda", batch_size=8, windows=5, min_window_s=2.0,
                       warmup_s=2.0, seed=0)  # fmt: skip
    assert not run.failures, run.failures
    result = run.results[0]
    assert result.energy.meter == "nvml" and "nvml" in result.energy.meter_reason
    windows = result.energy.windows
    # energy per item agrees across windows of different lengths (work, not time, drives it)
    per_item = [w.energy_j / w.items for w in windows]
    assert max(per_item) / min(per_item) < 1.25
    assert result.net_energy_per_inference_j is not None
