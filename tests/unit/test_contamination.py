"""Windows during which other processes ran: measured, retaken, flagged (harness.contamination)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from joulebench import measure, measure_many
from joulebench.batteries import battery
from joulebench.devices.nvml import NvmlMeter
from joulebench.devices.simulated import SimulatedMeter
from joulebench.harness.contamination import (
    RESOLUTION_CPU_S,
    SystemUsage,
    UsageSample,
    foreign_load,
    probe_for,
    verdict,
)
from joulebench.reports.methods import methods_sections
from joulebench.reports.methods_render import flat
from joulebench.results.store import build_document
from joulebench.testing import BusyTrace, FakeClock, FakeGpu, FakeNvml, busy_elsewhere

CALL_S = 0.01


def sample(at_s, busy_s, ours_s, pids=(1,), gpu=None):
    return UsageSample(at_s, busy_s, ours_s, frozenset(pids), gpu)


def test_foreign_load_is_the_machines_busy_time_less_ours_over_the_window():
    load = foreign_load(sample(10.0, 100.0, 40.0), sample(12.0, 104.5, 42.0))
    assert load.cpu_s == pytest.approx(2.5)  # 4.5 s busy, 2.0 s of it ours
    assert load.cores == pytest.approx(1.25)
    assert verdict(load, 0.5).startswith("contaminated: other processes kept 1.25 CPU cores")
    assert verdict(load, 2.0) is None
    # ours may tick ahead of the machine's counter: never a negative foreign load
    assert foreign_load(sample(0, 10, 5), sample(1, 11, 6.2)).cpu_s == 0.0


def test_a_load_below_the_counters_resolution_is_not_judged():
    # 60 ms of foreign time in 50 ms is "1.2 cores", but it is six 10 ms ticks: not judged
    load = foreign_load(sample(0.0, 0.0, 0.0), sample(0.05, 0.06, 0.0))
    assert load.cores > 1 and load.cpu_s < RESOLUTION_CPU_S
    assert verdict(load, 0.5) is None


def test_a_foreign_gpu_process_is_judged_only_when_our_own_is_visible():
    ours_visible = foreign_load(
        sample(0, 0, 0, pids=(7, 8), gpu=frozenset({8, 99})),
        sample(1, 0, 0, pids=(7, 8), gpu=frozenset({8})),
    )
    assert ours_visible.gpu_pids == (99,) and ours_visible.gpu_judged
    assert "foreign process(es) 99 on the measured GPU" in verdict(ours_visible, 0.5)
    # another pid namespace (a container): NVML lists host pids, none of them ours
    elsewhere = foreign_load(
        sample(0, 0, 0, pids=(7,), gpu=frozenset({4001, 4002})),
        sample(1, 0, 0, pids=(7,), gpu=frozenset({4001, 4002})),
    )
    assert not elsewhere.gpu_judged and verdict(elsewhere, 0.5) is None
    assert "gpu_pids" not in elsewhere.to_dict()


def test_nvml_lists_the_processes_on_the_measured_gpus_for_the_probe():
    gpu = FakeGpu(compute_pids=[os.getpid(), 4242])
    meter = NvmlMeter(nvml=FakeNvml(gpus=[gpu]))
    probe = probe_for(meter)
    assert probe.sample().gpu_pids == frozenset({os.getpid(), 4242})
    begin = probe.sample()
    gpu.compute_pids = [os.getpid()]
    load = foreign_load(begin, probe.sample())
    assert load.gpu_pids == (4242,)  # it was there when the window opened
    meter.close()


class ScriptedUsage:
    """A usage probe whose foreign CPU per window follows a script (cores while busy)."""

    def __init__(self, clock, foreign_cores):
        self.clock = clock
        self.script = list(foreign_cores)
        self.busy_s = 0.0
        self.calls = 0

    def sample(self):
        self.calls += 1
        if self.calls % 2 == 0:  # a window's end: add the foreign time it saw
            cores = self.script.pop(0) if self.script else 0.0
            self.busy_s += cores * 1.0
        return UsageSample(float(self.calls), self.busy_s, 0.0, frozenset({1}))


def test_a_contaminated_window_is_retaken_and_the_retake_is_kept(host):
    clock = FakeClock()
    trace = BusyTrace(clock, 5.0, 25.0)
    meter = SimulatedMeter(trace, clock=clock)
    # window 1 (whichever comes first, idle or not) is loaded by another program; then quiet
    usage = ScriptedUsage(clock, [1.5])
    result = measure(
        trace.workload(CALL_S), meter, clock=clock, host_probe=host, seed=3,
        usage_probe=usage, windows=3, max_foreign_cores=0.5,
    )  # fmt: skip
    retaken = [*result.discarded]
    assert len(retaken) == 1 and retaken[0].reason.startswith("contaminated: other processes")
    assert retaken[0].reason.endswith("(retaken)")
    assert len(result.windows) == 3 and len(result.idle_windows) == 3
    kept = [*result.windows, *result.idle_windows]
    assert all(not w.flags and w.foreign["cores"] == 0.0 for w in kept)
    assert "discarded" in {f.code for f in result.flags}
    assert "contaminated" not in {f.code for f in result.flags}


def test_a_window_still_loaded_after_its_retakes_is_kept_flagged_never_silently(host):
    clock = FakeClock()
    trace = BusyTrace(clock, 5.0, 25.0)
    meter = SimulatedMeter(trace, clock=clock)
    usage = ScriptedUsage(clock, [2.0, 2.0, 2.0])  # the first window and both its retakes
    result = measure(
        trace.workload(CALL_S), meter, clock=clock, host_probe=host, seed=3, idle=False,
        usage_probe=usage, windows=3, contaminated_retakes=2,
    )  # fmt: skip
    assert len(result.discarded) == 2 and len(result.windows) == 3
    first = result.windows[0]
    assert first.flags == ("contaminated: other processes kept 2.00 CPU cores busy (limit 0.5)",)
    assert first.foreign == {"cpu_s": 2.0, "cores": 2.0}
    flag = {f.code: f.message for f in result.flags}["contaminated"]
    assert flag.startswith("1 window(s) kept although other processes ran") and "drift" not in {
        f.code for f in result.flags
    }
    # the document and the methods section say it too
    document = build_document(result)
    assert document["measurements"][0]["windows"][0]["foreign"]["cores"] == 2.0
    sections, _ = methods_sections([(Path("run.json"), document)], battery("phone"))
    text = flat(sections)
    assert "2 windows were retaken so" in text
    assert "1 window still loaded after the retakes was kept and flagged contaminated" in text


def test_no_limit_records_the_foreign_load_but_flags_nothing(host):
    clock = FakeClock()
    trace = BusyTrace(clock, 5.0, 25.0)
    meter = SimulatedMeter(trace, clock=clock)
    usage = ScriptedUsage(clock, [3.0] * 20)
    result = measure(
        trace.workload(CALL_S), meter, clock=clock, host_probe=host, seed=1,
        usage_probe=usage, windows=2, max_foreign_cores=None,
    )  # fmt: skip
    assert not result.discarded and all(w.foreign["cores"] == 3.0 for w in result.windows)
    assert not any(w.flags for w in result.windows)


def test_a_fake_clock_run_is_not_judged_by_the_machines_real_load(host):
    clock = FakeClock()
    trace = BusyTrace(clock, 5.0, 25.0)
    meter = SimulatedMeter(trace, clock=clock)
    result = measure(trace.workload(CALL_S), meter, clock=clock, host_probe=host, windows=2)
    assert all(w.foreign is None for w in result.windows)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to start an unrelated process")
def test_this_machine_another_programs_busy_loop_is_foreign_and_our_own_childs_is_not():
    probe = SystemUsage()
    busy_elsewhere(2.0)
    time.sleep(0.2)
    begin = probe.sample()
    time.sleep(1.0)
    loaded = foreign_load(begin, probe.sample())
    assert loaded.cores > 0.6, loaded  # one core kept busy by a process that is not ours
    assert verdict(loaded, 0.5) is not None
    time.sleep(1.2)  # it has ended
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.monotonic() + 1.5\n"
         "while time.monotonic() < end: pass"]
    )  # fmt: skip
    time.sleep(0.2)
    begin = probe.sample()
    time.sleep(1.0)
    end = probe.sample()
    child.wait()
    # our own child's second is counted as joulebench's (whatever else the machine runs)
    assert end.our_cpu_s - begin.our_cpu_s > 0.4
    assert child.pid in end.our_pids


def test_measure_many_on_the_system_clock_records_each_windows_foreign_load(host):
    results = measure_many(
        {"A": lambda n: time.sleep(0.002 * n)}, "simulated", host_probe=host, windows=2,
        min_window_s=0.05, warmup_s=0.0, warmup_calls=1, sleep_max_s=0.0,
        max_foreign_cores=None,
    )  # fmt: skip
    assert all(set(w.foreign) == {"cpu_s", "cores"} for w in results["A"].windows)


def test_a_steady_foreign_load_stops_the_retakes_after_the_first_window_outlasts_them(host):
    clock = FakeClock()
    trace = BusyTrace(clock, 5.0, 25.0)
    meter = SimulatedMeter(trace, clock=clock)
    events = []
    usage = ScriptedUsage(clock, [1.0] * 100)  # another program busy the whole run
    result = measure(
        trace.workload(CALL_S), meter, clock=clock, host_probe=host, seed=2, idle=False,
        usage_probe=usage, windows=5, contaminated_retakes=2, on_event=events.append,
    )  # fmt: skip
    # two retakes for the first window only: the run is not three times as long
    assert len(result.discarded) == 2 and len(result.windows) == 5
    assert all(w.flags[0].startswith("contaminated") for w in result.windows)
    assert sum(e.kind == "contaminated" for e in events) == 1
    assert {f.code: f.message for f in result.flags}["contaminated"].startswith("5 window(s)")


def test_max_foreign_cores_on_the_command_line_takes_cores_or_off_and_refuses_the_rest():
    import argparse

    from joulebench.cli.common import parse_foreign_cores

    assert parse_foreign_cores("off") is None and parse_foreign_cores("0.25") == 0.25
    for bad in ("-1", "nan", "many"):
        with pytest.raises(argparse.ArgumentTypeError, match="number of CPU cores >= 0, or off"):
            parse_foreign_cores(bad)


def test_an_experiment_file_turns_the_judgement_off_with_the_word_off():
    from joulebench.harness.settings import make_settings

    assert make_settings(max_foreign_cores="off").max_foreign_cores is None
    assert make_settings().max_foreign_cores == 0.5
