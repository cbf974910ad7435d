from __future__ import annotations

import math

import pytest

from joulebench.devices.estimate import EstimateMeter, process_cpu_time_s
from joulebench.devices.simulated import SimulatedMeter
from joulebench.errors import InvalidReadingError, UserError


def test_estimate_is_cpu_time_times_watts_per_core_plus_idle(clock):
    cpu = iter([10.0, 13.0])
    meter = EstimateMeter(cpu_w_per_core=6.0, idle_w=2.0, clock=clock, cpu_time_s=lambda: next(cpu))
    meter.begin()
    clock.advance(2.0)
    (reading,) = meter.end()
    assert reading.energy_j == pytest.approx(3.0 * 6.0 + 2.0 * 2.0)
    assert reading.method == "estimated"
    assert reading.details["cpu_time_s"] == pytest.approx(3.0)
    assert "6 W per busy core" in reading.details["source"]


def test_estimate_default_idle_scales_with_cores_and_says_where_it_came_from():
    meter = EstimateMeter()
    assert meter.idle_w > 0
    assert "logical cores" in meter.source and "rule of thumb" in meter.source


@pytest.mark.parametrize("bad", [math.nan, -1.0, math.inf])
def test_estimate_refuses_bad_watts(bad):
    with pytest.raises(UserError, match="--cpu-watts"):
        EstimateMeter(cpu_w_per_core=bad)


def test_process_cpu_time_grows_with_work():
    before = process_cpu_time_s()
    total = sum(i * i for i in range(300_000))
    assert total > 0
    assert process_cpu_time_s() >= before


def test_simulated_constant_and_callable_traces(clock):
    meter = SimulatedMeter(12.0, clock=clock)
    meter.begin()
    clock.advance(2.5)
    assert meter.end()[0].energy_j == pytest.approx(30.0)
    ramp = SimulatedMeter(lambda t: 10.0 * t, clock=clock)  # t from the meter's creation
    ramp.begin()
    clock.advance(2.0)
    (reading,) = ramp.end()
    assert reading.energy_j == pytest.approx(20.0, rel=1e-6)
    assert reading.method == "simulated"


def test_simulated_trace_giving_nan_is_refused(clock):
    meter = SimulatedMeter(lambda t: math.nan, clock=clock)
    meter.begin()
    clock.advance(1.0)
    with pytest.raises(InvalidReadingError, match="simulated power trace"):
        meter.end()


def test_simulated_refuses_negative_constant():
    with pytest.raises(UserError):
        SimulatedMeter(-3.0)
