from __future__ import annotations

from dataclasses import replace
from itertools import count

import numpy as np
import pytest
from scipy import stats

from joulebench import measure, measure_many
from joulebench.cli.format import format_results
from joulebench.devices.base import MeterAccuracy
from joulebench.devices.simulated import SimulatedMeter
from joulebench.errors import (
    InvalidWindowError,
    MeasurementError,
    UserError,
    WorkloadError,
)
from joulebench.harness import stopping
from joulebench.harness.telemetry import HostSnapshot
from joulebench.testing import BusyTrace, FakeClock

CALL_S = 0.01
IDLE_W, BUSY_W = 5.0, 25.0


def setup(noise_frac=0.0, seed=0, idle_w=IDLE_W, busy_w=BUSY_W):
    clock = FakeClock()
    trace = BusyTrace(clock, idle_w, busy_w)
    meter = SimulatedMeter(trace, noise_frac=noise_frac, seed=seed, clock=clock)
    return clock, trace, meter


def test_energy_per_call_gross_and_net_within_1_percent_of_the_truth(host):
    clock, trace, meter = setup(noise_frac=0.02, seed=1)
    r = measure(trace.workload(CALL_S), meter, clock=clock, host_probe=host, seed=2)
    assert r.energy_per_item_j.mean == pytest.approx(BUSY_W * CALL_S, rel=0.01)
    assert r.net_energy_per_item_j.mean == pytest.approx((BUSY_W - IDLE_W) * CALL_S, rel=0.01)
    assert r.idle_power_w.mean == pytest.approx(IDLE_W, rel=0.02)
    assert r.duration_per_item_s.mean == pytest.approx(CALL_S)
    assert r.method == "simulated" and not r.measured
    assert r.energy_per_item_j.n == 5 and len(r.windows) == 5 and len(r.idle_windows) == 5


def test_the_95_percent_interval_covers_the_truth_in_at_least_90_percent_of_seeded_runs(host):
    truth_j = BUSY_W * CALL_S
    covered = 0
    runs = 200
    for seed in range(runs):
        clock, trace, meter = setup(noise_frac=0.05, seed=seed)
        r = measure(
            trace.workload(CALL_S),
            meter,
            clock=clock,
            host_probe=host,
            seed=seed,
            warmup_calls=1,
            warmup_s=0.0,
            idle=False,
        )
        covered += abs(r.energy_per_item_j.mean - truth_j) <= r.energy_per_item_j.ci95
    assert covered / runs >= 0.90


def test_every_round_holds_each_workload_and_idle_once_in_a_shuffled_recorded_order(host):
    clock, trace, meter = setup()
    results = measure_many(
        {"A": trace.workload(CALL_S), "B": trace.workload(2 * CALL_S)},
        meter,
        clock=clock,
        host_probe=host,
        seed=5,
        windows=8,
    )
    every = sorted(
        [*results["A"].windows, *results["B"].windows, *results["A"].idle_windows],
        key=lambda w: w.start_wall_s,
    )
    rounds = [tuple(w.label for w in every[i : i + 3]) for i in range(0, len(every), 3)]
    assert all(sorted(r) == ["A", "B", "idle"] for r in rounds)
    assert results["A"].order == tuple(rounds)  # the order taken is the order recorded
    assert len(set(rounds)) > 2  # shuffled, not one fixed order
    assert {r[-1] for r in rounds} != {"idle"}  # idle is not always last
    assert [w.position for w in every] == [0, 1, 2] * 8
    assert results["A"].order_seed == 5
    window_sleeps = [s for s in clock.sleeps_s if 0 < s < 0.2 + 1e-12]
    assert len(window_sleeps) >= 24
    assert all(0.0 <= s <= 0.2 for s in window_sleeps)
    assert len(set(window_sleeps)) > 1  # random, not constant
    assert results["B"].energy_per_item_j.mean == pytest.approx(2 * BUSY_W * CALL_S, rel=1e-6)


def test_warm_up_is_at_least_ten_calls_and_the_warmup_seconds(host):
    clock, trace, meter = setup()
    calls = count()

    def workload(n):
        for _ in range(n):
            next(calls)
        trace.workload(1.0)(n)  # 1 s per call: 10 calls take 10 s > 3 s

    measure(
        workload,
        meter,
        clock=clock,
        host_probe=host,
        windows=2,
        idle=False,
        min_window_s=1.0,
        warmup_s=3.0,
    )
    # 10 warm-up, 2 calibration calls (1.1 x min_window_s), 2 windows of 2 calls
    assert next(calls) == 10 + 2 + 2 * 2


def test_windows_are_calibrated_to_last_at_least_min_window(host):
    clock, trace, meter = setup()
    r = measure(trace.workload(0.003), meter, clock=clock, host_probe=host, min_window_s=2.0)
    assert all(w.duration_s >= 2.0 for w in r.windows)
    assert r.calls_per_window == 734  # aims 10% over min_window_s
    assert r.min_window_s == 2.0


def one_second_windows(workload, meter, clock, host):
    """Windows of at least 1 s after a warm-up of exactly 10 calls, no idle windows."""
    return measure(workload, meter, clock=clock, host_probe=host, min_window_s=1.0,
                   warmup_calls=10, warmup_s=0.0, idle=False)  # fmt: skip


def test_a_short_last_batch_in_the_warm_up_does_not_stretch_the_windows(host):
    # a workload that rounds a test set of 10 batches: the 10th is short (as 300 texts in
    # batches of 32 end on 12), and it is the last warm-up call
    clock, trace, meter = setup()
    calls = count()

    def batches(n):
        for _ in range(n):
            trace.workload(0.001 if next(calls) % 10 == 9 else 0.1)(1)

    r = one_second_windows(batches, meter, clock, host)
    # from the median call (0.1 s): about 11 calls; from the last one it was 1,100 (110 s)
    assert r.calls_per_window <= 13
    assert all(1.0 <= w.duration_s < 1.5 for w in r.windows)


def test_a_window_that_would_end_short_is_topped_up_to_min_window(host):
    clock, trace, meter = setup()
    calls = count()

    def speeding_up(n):  # after calibration, every call takes half as long
        for _ in range(n):
            trace.workload(0.01 if next(calls) < 120 else 0.005)(1)

    r = one_second_windows(speeding_up, meter, clock, host)
    assert all(w.duration_s >= 1.0 for w in r.windows)
    assert all(w.calls > r.calls_per_window for w in r.windows)
    assert r.energy_per_item_j.mean == pytest.approx(BUSY_W * 0.005, rel=0.01)


def test_a_workload_that_raises_is_one_error_naming_it_and_the_meter_is_closed(host):
    clock, trace, meter = setup()
    closed = []
    meter.close = lambda: closed.append(True)
    calls = count()

    def flaky(n):
        if next(calls) > 12:
            raise ValueError("bad batch")
        trace.workload(CALL_S)(n)

    with pytest.raises(WorkloadError, match=r"workload 'flaky' raised ValueError: bad batch"):
        measure(flaky, meter, label="flaky", clock=clock, host_probe=host, warmup_s=0.0)
    assert closed


def test_ctrl_c_in_a_window_propagates_and_closes_the_meter(host):
    clock, trace, meter = setup()
    closed = []
    meter.close = lambda: closed.append(True)
    calls = count()

    def interrupted(n):  # 10 warm-up calls, 1 calibration, 1 window, then Ctrl-C
        if next(calls) > 11:
            raise KeyboardInterrupt
        trace.workload(CALL_S)(n)

    with pytest.raises(KeyboardInterrupt):  # one window is no interval: nothing to keep
        measure(interrupted, meter, clock=clock, host_probe=host, warmup_s=0.0)
    assert closed


def test_ctrl_c_after_two_rounds_keeps_the_windows_taken_and_flags_them(host):
    clock, trace, meter = setup()
    calls = count()

    def interrupted_late(n):
        # 10 warm-up calls, 110 to calibrate, then windows of 110 calls: stop in the third
        if next(calls) > 10 + 110 + 2 * 110 + 5:
            raise KeyboardInterrupt
        trace.workload(CALL_S)(1)

    r = measure(
        lambda n: [interrupted_late(1) for _ in range(n)],
        meter,
        clock=clock,
        host_probe=host,
        warmup_s=0.0,
        min_window_s=1.0,
    )
    assert r.interrupted
    # the third round's idle window may have run before the interrupted one (shuffled order)
    assert len(r.windows) == 2 and len(r.idle_windows) in (2, 3)
    assert "interrupted" in [f.code for f in r.flags]
    assert r.energy_per_item_j.mean == pytest.approx(BUSY_W * CALL_S)


class FlakyMeter(SimulatedMeter):
    """Discards the windows whose numbers are given."""

    def __init__(self, bad, **kwargs):
        super().__init__(**kwargs)
        self.bad = set(bad)
        self.ends = 0

    def end(self):
        self.ends += 1
        readings = super().end()
        if self.ends in self.bad:
            raise InvalidWindowError("counter stalled")
        return readings


def test_invalid_windows_are_discarded_and_remeasured(host):
    clock = FakeClock()
    meter = FlakyMeter({2, 3}, power_w=10.0, clock=clock)
    r = measure(
        lambda n: clock.advance(n * CALL_S), meter, clock=clock, host_probe=host, idle=False
    )
    assert len(r.windows) == 5
    assert len(r.discarded) == 2 and r.discarded[0].reason == "counter stalled"
    assert "discarded" in [f.code for f in r.flags]


def test_too_many_invalid_windows_is_an_error(host):
    clock = FakeClock()
    meter = FlakyMeter(range(1, 100), power_w=10.0, clock=clock)
    with pytest.raises(MeasurementError, match="windows discarded"):
        measure(
            lambda n: clock.advance(n * CALL_S),
            meter,
            clock=clock,
            host_probe=host,
            max_discarded_windows=3,
        )


def test_target_ci_takes_the_windows_steins_rule_plans_from_a_pilot_of_ten(host):
    clock, trace, meter = setup(noise_frac=0.05, seed=3)
    r = measure(
        trace.workload(CALL_S),
        meter,
        clock=clock,
        host_probe=host,
        seed=1,
        target_ci=0.02,
        idle=False,
    )
    assert r.target_met is True
    pilot = [w.energy_j / w.items for w in r.windows[:10]]
    planned = stopping.planned_windows(pilot, 0.02)
    assert r.stopping["rule"] == "stein-two-stage" and r.stopping["pilot_windows"] == 10
    assert r.stopping["planned_windows"] == planned == r.energy_per_item_j.n > 10
    # the interval is Stein's: t(9) x the pilot's spread / sqrt(N), within the target
    t9 = stats.t.ppf(0.975, 9)
    assert r.energy_per_item_j.interval == "stein-two-stage"
    assert r.energy_per_item_j.ci95 == pytest.approx(t9 * np.std(pilot, ddof=1) / planned**0.5)
    assert r.energy_per_item_j.ci95 <= 0.02 * np.mean(pilot) + 1e-12


def test_target_ci_gives_up_at_the_time_cap_and_says_so(host):
    clock, trace, meter = setup(noise_frac=0.3, seed=3)
    r = measure(
        trace.workload(CALL_S),
        meter,
        clock=clock,
        host_probe=host,
        seed=1,
        target_ci=0.001,
        max_time_s=30.0,
        idle=False,
    )
    assert r.target_met is False
    assert "target-not-met" in [f.code for f in r.flags]


def test_net_that_is_not_positive_is_an_error_not_a_number(host):
    clock, trace, meter = setup(idle_w=30.0, busy_w=10.0)
    r = measure(trace.workload(CALL_S), meter, clock=clock, host_probe=host)
    assert r.net_energy_per_item_j is None
    assert "not positive" in r.net_error
    assert "net-not-positive" in [f.code for f in r.flags]


def test_spread_and_outliers_are_flagged(host):
    clock, trace, meter = setup(noise_frac=0.25, seed=11)
    r = measure(trace.workload(CALL_S), meter, clock=clock, host_probe=host, seed=1, windows=12)
    codes = [f.code for f in r.flags]
    assert "unstable" in codes
    assert r.energy_per_item_j.cv >= 0.10


def test_cpu_frequency_drift_and_throttling_flag_windows(host):
    clock, trace, meter = setup()
    snapshots = count()

    def drifting_host():
        i = next(snapshots)
        # two snapshots a window: windows 1-6 at 3000 MHz, then 2000 MHz and throttling
        return HostSnapshot(3000.0 if i < 12 else 2000.0, 0 if i < 12 else i, 50.0, 4)

    r = measure(
        trace.workload(CALL_S), meter, clock=clock, host_probe=drifting_host, windows=8, idle=False
    )
    drifted = [i for i, w in enumerate(r.windows) if w.flags]
    assert drifted == [6, 7]
    assert any("cpu-freq 33%" in f for f in r.windows[6].flags)
    assert any("cpu-throttled" in f for f in r.windows[7].flags)
    assert "drift" in [f.code for f in r.flags]


def test_bad_settings_and_meter_names_are_user_errors(host):
    with pytest.raises(UserError, match="windows"):
        measure(lambda n: None, "simulated", windows=1)
    with pytest.raises(UserError, match="unknown meter 'joulemeter'"):
        measure(lambda n: None, "joulemeter")
    with pytest.raises(UserError, match="reserved"):
        measure_many({"idle": lambda n: None}, "simulated")


def test_thread_counts_are_recorded(host):
    clock, trace, meter = setup()
    r = measure(trace.workload(CALL_S), meter, clock=clock, host_probe=host)
    assert r.threads["logical_cpus"] >= 1
    assert "omp_num_threads" in r.threads


class DriftingBaseline(BusyTrace):
    """Idle power that rises 0.1 W every second (a machine warming up); busy = idle + 20 W."""

    def energy_j(self, t0_s, t1_s):
        baseline_j = 5.0 * (t1_s - t0_s) + 0.05 * (t1_s**2 - t0_s**2)
        busy_s = sum(max(0.0, min(b, t1_s) - max(a, t0_s)) for a, b in self.busy)
        return baseline_j + 20.0 * busy_s


def test_net_energy_subtracts_each_rounds_own_idle_window_so_baseline_drift_cancels(host):
    clock = FakeClock()
    trace = DriftingBaseline(clock, 5.0, 25.0)
    meter = SimulatedMeter(trace, clock=clock)
    r = measure(trace.workload(CALL_S), meter, clock=clock, host_probe=host, seed=3,
                windows=12, min_window_s=2.0)  # fmt: skip
    truth_j = 20.0 * CALL_S
    assert r.net_energy_per_item_j.mean == pytest.approx(truth_j, rel=0.01)
    assert r.stopping["idle"] == "paired by round"
    # against the run's mean idle power instead, the drift (several watts over the run)
    # would spread the per-window net values far more
    mean_idle_w = r.idle_power_w.mean
    run_mean = [(w.energy_j - mean_idle_w * w.meter_duration_s) / w.items for w in r.windows]
    assert r.net_energy_per_item_j.std < 0.25 * np.std(run_mean, ddof=1)


def test_the_meters_own_accuracy_is_kept_apart_from_the_statistical_interval(host):
    clock, trace, _ = setup(noise_frac=0.02, seed=1)
    r = measure(
        trace.workload(CALL_S),
        "estimate",
        clock=clock,
        host_probe=host,
        seed=2,
        windows=3,
        meter_options={"clock": clock, "cpu_time_s": lambda: clock.now_s},
    )
    assert r.accuracy.rel_frac == 1.0 and "factor of 2" in r.accuracy.source
    assert r.systematic_energy_per_item_j == pytest.approx(r.energy_per_item_j.mean)
    text = format_results([r])
    assert "meter accuracy" in text and "(100%)" in text
    assert "statistical 95% confidence half-width" in text
    # a meter that states nothing claims nothing: no bound, never 0
    unstated = replace(r, accuracy=MeterAccuracy(None, "not given"))
    assert unstated.systematic_energy_per_item_j is None
    assert "not stated" in format_results([unstated])
