from __future__ import annotations

import sys
import types
from unittest import mock

import pytest

from joulebench import measure
from joulebench.devices.nvml import NvmlMeter, cuda_synchronize_if_used
from joulebench.errors import DeviceError, InvalidWindowError, MeterUnavailableError, UserError
from joulebench.testing import FakeGpu, FakeNvml

pynvml = pytest.importorskip("pynvml")


def by_domain(readings):
    return {r.domain: r for r in readings}


def test_counter_path_converts_millijoules_and_records_telemetry(clock):
    nvml = FakeNvml([FakeGpu(power_w=300.0, clock_event_reasons=0x40)], clock=clock)
    meter = NvmlMeter(nvml=nvml, clock=clock)
    assert meter.method == "counter"
    meter.begin()
    clock.advance(10.0)
    readings = by_domain(meter.end())
    assert readings["gpu:0"].energy_j == pytest.approx(3000.0)
    assert readings["gpu"].energy_j == pytest.approx(3000.0)
    assert readings["gpu"].scope == "board"
    details = readings["gpu:0"].details
    assert details["sm_clock_mhz_end"] == 1980
    assert details["temperature_c_end"] == 45.0
    assert details["power_limit_w_end"] == 700.0
    assert details["clock_event_reasons_end"] == 0x40
    assert details["short_window"] is False


def test_counter_steps_every_100_ms_so_short_windows_are_flagged_and_sub_second_refused(clock):
    nvml = FakeNvml([FakeGpu(power_w=100.0)], clock=clock)
    meter = NvmlMeter(nvml=nvml, clock=clock)
    meter.begin()
    clock.advance(2.0)
    assert by_domain(meter.end())["gpu"].details["short_window"] is True
    meter.begin()
    clock.advance(0.5)
    with pytest.raises(InvalidWindowError, match=r"under the 1\.0 s"):
        meter.end()


def test_measure_refuses_a_min_window_under_one_second_for_nvml(clock, host):
    meter = NvmlMeter(nvml=FakeNvml(clock=clock), clock=clock)
    with pytest.raises(UserError, match=r"at least 1\.0"):
        measure(
            lambda n: clock.advance(n * 0.01), meter, min_window_s=0.5, clock=clock, host_probe=host
        )


def test_old_gpu_without_counter_integrates_instant_power_samples(clock):
    nvml = FakeNvml([FakeGpu(power_w=250.0, has_counter=False)], clock=clock)
    meter = NvmlMeter(nvml=nvml, clock=clock, sample_interval_s=0.001)
    assert (meter.method, meter.power_field) == ("integrated", "instant")
    meter.begin()
    clock.advance(4.0)
    reading = by_domain(meter.end())["gpu"]
    assert reading.method == "integrated"
    assert reading.energy_j == pytest.approx(1000.0)
    assert reading.details["power_field"] == "instant"


def test_without_the_instant_field_the_one_second_average_is_used_and_said(clock):
    nvml = FakeNvml([FakeGpu(has_counter=False, has_instant_field=False)], clock=clock)
    assert NvmlMeter(nvml=nvml, clock=clock).power_field == "average-1s"


def test_counter_reset_invalidates_the_window(clock):
    gpu = FakeGpu(counter_offset_mj=5_000_000)
    nvml = FakeNvml([gpu], clock=clock)
    meter = NvmlMeter(nvml=nvml, clock=clock)
    meter.begin()
    clock.advance(10.0)
    gpu.counter_offset_mj = 0  # driver reload
    with pytest.raises(InvalidWindowError, match="went back"):
        meter.end()


def test_counter_that_did_not_move_is_invalid_not_zero(clock):
    nvml = FakeNvml([FakeGpu(power_w=0.0)], clock=clock)
    meter = NvmlMeter(nvml=nvml, clock=clock)
    meter.begin()
    clock.advance(10.0)
    with pytest.raises(InvalidWindowError, match="did not move"):
        meter.end()


def test_missing_driver_is_unavailable_with_the_reason():
    nvml = FakeNvml(library_found=False)
    availability = NvmlMeter.probe(nvml)
    assert not availability
    assert "libnvidia-ml.so" in availability.reason
    with pytest.raises(MeterUnavailableError, match="no NVIDIA driver"):
        NvmlMeter(nvml=nvml)


def test_missing_gpu_index_and_no_gpu_are_refused():
    with pytest.raises(MeterUnavailableError, match="GPU index 3 does not exist"):
        NvmlMeter(devices=[3], nvml=FakeNvml())
    with pytest.raises(MeterUnavailableError, match="no GPU"):
        NvmlMeter(nvml=FakeNvml(gpus=[]))
    assert not NvmlMeter.probe(FakeNvml(gpus=[]))


def test_gpu_lost_mid_run_is_translated_to_a_device_error(clock):
    gpu = FakeGpu()
    meter = NvmlMeter(nvml=FakeNvml([gpu], clock=clock), clock=clock)
    meter.begin()
    gpu.lost = True
    with pytest.raises(DeviceError, match="nvmlDeviceGetTotalEnergyConsumption failed"):
        meter.end()


def test_two_gpus_are_summed_into_gpu(clock):
    nvml = FakeNvml([FakeGpu(power_w=100.0), FakeGpu(power_w=200.0)], clock=clock)
    meter = NvmlMeter(nvml=nvml, clock=clock)
    meter.begin()
    clock.advance(10.0)
    readings = by_domain(meter.end())
    assert readings["gpu"].energy_j == pytest.approx(3000.0)
    assert readings["gpu:1"].energy_j == pytest.approx(2000.0)


def autospecced(counter_values_mj=None, counter_supported=True):
    fake = mock.create_autospec(pynvml, instance=False)
    for name in ("NVMLError", "NVMLError_NotSupported", "NVMLError_LibraryNotFound"):
        setattr(fake, name, getattr(pynvml, name))
    fake.NVML_FI_DEV_POWER_INSTANT = pynvml.NVML_FI_DEV_POWER_INSTANT
    fake.nvmlDeviceGetCount.return_value = 1
    fake.nvmlDeviceGetName.return_value = "NVIDIA A100-SXM4-40GB"
    fake.nvmlDeviceGetClockInfo.return_value = 1410
    fake.nvmlDeviceGetTemperature.return_value = 40
    fake.nvmlDeviceGetEnforcedPowerLimit.return_value = 400_000
    fake.nvmlDeviceGetCurrentClocksEventReasons.return_value = 0
    if counter_supported:
        fake.nvmlDeviceGetTotalEnergyConsumption.side_effect = list(counter_values_mj)
    else:
        fake.nvmlDeviceGetTotalEnergyConsumption.side_effect = pynvml.NVMLError_NotSupported(
            pynvml.NVML_ERROR_NOT_SUPPORTED
        )
        fake.nvmlDeviceGetFieldValues.side_effect = pynvml.NVMLError_NotSupported(
            pynvml.NVML_ERROR_NOT_SUPPORTED
        )
        fake.nvmlDeviceGetPowerUsage.return_value = 150_000
    return fake


def test_autospecced_pynvml_counter_path_synchronises_cuda_around_each_read(clock):
    # probe call in __init__, then begin and end
    fake = autospecced([0, 1_000_000, 1_012_500])
    sync = mock.Mock()
    meter = NvmlMeter(nvml=fake, clock=clock, sync=sync)
    meter.begin()
    clock.advance(10.0)
    readings = by_domain(meter.end())
    assert readings["gpu"].energy_j == pytest.approx(12.5)
    assert sync.call_count == 2
    fake.nvmlInit.assert_called_once()
    meter.close()
    fake.nvmlShutdown.assert_called_once()


def test_autospecced_pynvml_counter_reset_is_an_invalid_window(clock):
    fake = autospecced([0, 9_000_000, 1_000])
    meter = NvmlMeter(nvml=fake, clock=clock, sync=lambda: None)
    meter.begin()
    clock.advance(10.0)
    with pytest.raises(InvalidWindowError, match="went back from 9000000 to 1000 mJ"):
        meter.end()


def test_autospecced_pynvml_without_the_library_is_unavailable_not_a_crash():
    fake = autospecced([0])
    fake.nvmlInit.side_effect = pynvml.NVMLError_LibraryNotFound(
        pynvml.NVML_ERROR_LIBRARY_NOT_FOUND
    )
    assert "libnvidia-ml.so" in NvmlMeter.probe(fake).reason
    with pytest.raises(MeterUnavailableError):
        NvmlMeter(nvml=fake)


def test_gpu_names_and_driver_reach_the_results_document(clock, host, tmp_path):
    from joulebench.results import read_document, save

    meter = NvmlMeter(nvml=FakeNvml(clock=clock), clock=clock)
    r = measure(
        lambda n: clock.advance(0.5 * n),
        meter,
        clock=clock,
        host_probe=host,
        min_window_s=10.0,
        warmup_s=0.0,
        windows=2,
    )
    machine = read_document(save(r, tmp_path))["machine"]
    assert machine["gpus"] == ["NVIDIA H100 80GB HBM3"]
    assert machine["gpu_driver"] == "580.95.05"


def test_autospecced_pynvml_without_counter_falls_back_to_average_power(clock):
    fake = autospecced(counter_supported=False)
    meter = NvmlMeter(nvml=fake, clock=clock, sample_interval_s=0.001)
    assert (meter.method, meter.power_field) == ("integrated", "average-1s")
    meter.begin()
    clock.advance(2.0)
    assert by_domain(meter.end())["gpu"].energy_j == pytest.approx(300.0)


def test_cuda_is_synchronised_only_when_torch_initialised_it(monkeypatch):
    cuda = types.SimpleNamespace(
        is_available=lambda: True,
        is_initialized=mock.Mock(return_value=False),
        synchronize=mock.Mock(),
    )
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    cuda_synchronize_if_used()
    cuda.synchronize.assert_not_called()
    cuda.is_initialized.return_value = True
    cuda_synchronize_if_used()
    cuda.synchronize.assert_called_once()


def test_thermal_slowdown_bits_flag_the_windows_as_drifted(clock, host):
    nvml = FakeNvml([FakeGpu(power_w=100.0, clock_event_reasons=0x40)], clock=clock)
    meter = NvmlMeter(nvml=nvml, clock=clock)
    result = measure(
        lambda n: clock.advance(0.5 * n),
        meter,
        clock=clock,
        host_probe=host,
        min_window_s=10.0,
        warmup_s=0.0,
        idle=False,
    )
    assert all("gpu-hw-thermal" in w.flags for w in result.windows)
    assert "drift" in [f.code for f in result.flags]


def test_a_window_held_back_by_the_power_cap_at_any_time_is_flagged_throttled(clock, host):
    capped = FakeGpu(power_capped_share=0.2)  # its clock-event reasons read 0 at every end
    results = {}
    for name, gpu in (("capped", capped), ("free", FakeGpu())):
        meter = NvmlMeter(nvml=FakeNvml([gpu], clock=clock), clock=clock)
        results[name] = measure(lambda n: clock.advance(0.01 * n), meter, clock=clock,
                                host_probe=host, windows=2, min_window_s=2.0, seed=0)  # fmt: skip
    window = results["capped"].windows[0]
    assert any(f.startswith("gpu-throttled-power") for f in window.flags)
    assert window.readings[0].details["power_capped_ns_end"] > 0
    assert "drift" in [f.code for f in results["capped"].flags]
    assert not any(w.flags for w in results["free"].windows)
