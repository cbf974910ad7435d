"""The run journal: windows written as taken; a killed run resumes with only the missing ones."""

from __future__ import annotations

import json

import pytest

from joulebench import measure_many
from joulebench.devices.simulated import SimulatedMeter
from joulebench.errors import UserError
from joulebench.harness.journal import (
    Journal,
    read_journal,
    window_from_record,
    window_to_record,
)
from joulebench.testing import BusyTrace, FakeClock

CALL_S = 0.01
SETTINGS = {"windows": 5, "seed": 11, "warmup_calls": 2, "warmup_s": 0.0}


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs (not an Exception the runner could catch)."""


class Counting:
    """A workload that counts its calls and can be 'killed' in its k-th window.

    On the fake clock every call of more than one is the calibration (one try suffices) or a
    window (no top-up is needed)."""

    def __init__(self, trace, call_s, kill_in_window=None):
        self.run = trace.workload(call_s)
        self.calls = []
        self.kill_in_window = kill_in_window

    def __call__(self, n):
        self.calls.append(n)
        if self.kill_in_window is not None and n > 1:
            windows_started = sum(1 for k in self.calls if k > 1) - 1  # less the calibration
            if windows_started == self.kill_in_window:
                raise Killed
        return self.run(n)


def setup():
    clock = FakeClock()
    trace = BusyTrace(clock, 5.0, 25.0)
    return clock, trace, SimulatedMeter(trace, noise_frac=0.02, seed=4, clock=clock)


def test_every_window_round_trips_through_the_journal(tmp_path, host):
    clock, trace, meter = setup()
    journal = Journal(tmp_path / "run.journal.jsonl", {"command": "test"})
    results = measure_many(
        {"A": trace.workload(CALL_S), "B": trace.workload(2 * CALL_S)},
        meter, clock=clock, host_probe=host, journal=journal, **SETTINGS,
    )  # fmt: skip
    state = read_journal(journal.path)
    assert state.start["command"] == "test" and state.sessions[0]["seed"] == 11
    assert state.calls == {"A": results["A"].calls_per_window, "B": results["B"].calls_per_window}
    assert state.rounds == 5 and [tuple(o) for o in state.order] == list(results["A"].order)
    # drift flags are added at the end of a run, not journalled: compare without them
    for label in ("A", "B"):
        assert state.windows[label] == [w for w in results[label].windows if not w.flags]
    assert len(state.windows["idle"]) == 5
    window = results["A"].windows[0]
    assert window_from_record(json.loads(json.dumps(window_to_record(window)))) == window


def test_a_killed_run_resumes_measuring_only_its_missing_windows(tmp_path, host):
    clock, trace, meter = setup()
    path = tmp_path / "run.journal.jsonl"
    a, b = Counting(trace, CALL_S), Counting(trace, 2 * CALL_S, kill_in_window=4)
    with pytest.raises(Killed):
        measure_many(
            {"A": a, "B": b}, meter, clock=clock, host_probe=host,
            journal=Journal(path, {"command": "test"}), **SETTINGS,
        )  # fmt: skip
    # the kill came while B's 4th window ran: three of B's windows, and whatever else ended
    before = read_journal(path)
    assert len(before.windows["B"]) == 3
    taken_before = {label: len(ws) for label, ws in before.windows.items()}
    assert before.window_count == sum(taken_before.values()) >= 3 + 3 + 3

    a2, b2 = Counting(trace, CALL_S), Counting(trace, 2 * CALL_S)
    meter = SimulatedMeter(trace, noise_frac=0.02, seed=5, clock=clock)  # a new process's
    results = measure_many(
        {"A": a2, "B": b2}, meter, clock=clock, host_probe=host,
        journal=Journal(path, before.start, fresh=False), resume=before, **SETTINGS,
    )  # fmt: skip
    for label in ("A", "B"):
        windows = results[label].windows
        assert len(windows) == 5
        assert [w for w in windows if not w.flags][: taken_before[label]] == [
            w for w in before.windows[label] if not w.flags
        ]
    # only the missing windows were run: no calibration, the journal's window size
    n_b = before.calls["B"]
    window_calls = [n for n in b2.calls if n >= n_b]
    assert len(window_calls) == 5 - taken_before["B"]
    assert results["B"].calls_per_window == n_b
    assert len(results["A"].idle_windows) >= 5  # every round, resumed ones too, has its idle
    rounds = [w.round_index for w in results["B"].windows]
    assert len(set(rounds)) == 5  # the resumed rounds are numbered after the journalled ones
    after = read_journal(path)
    assert len(after.sessions) == 2 and after.sessions[1]["resumed_windows"] == before.window_count
    assert results["A"].order_seed == 11


def test_a_resume_with_other_settings_or_another_meter_is_refused(tmp_path, host):
    clock, trace, meter = setup()
    path = tmp_path / "run.journal.jsonl"
    with pytest.raises(Killed):
        measure_many(
            {"B": Counting(trace, CALL_S, kill_in_window=2)}, meter, clock=clock,
            host_probe=host, journal=Journal(path, {}), **SETTINGS,
        )  # fmt: skip
    state = read_journal(path)
    meter = SimulatedMeter(trace, clock=clock)
    with pytest.raises(UserError, match="other protocol settings"):
        measure_many(
            {"B": trace.workload(CALL_S)}, meter, clock=clock, host_probe=host, resume=state,
            **{**SETTINGS, "windows": 6},
        )  # fmt: skip
    other = SimulatedMeter(trace, clock=clock)
    other.name = "estimate"
    with pytest.raises(UserError, match="meter 'simulated', not 'estimate'"):
        measure_many(
            {"B": trace.workload(CALL_S)}, other, clock=clock, host_probe=host, resume=state,
            **SETTINGS,
        )  # fmt: skip


def test_a_line_torn_by_the_kill_is_ignored_and_a_broken_one_before_it_is_refused(tmp_path):
    path = tmp_path / "run.journal.jsonl"
    journal = Journal(path, {"command": "test"})
    journal.calibrated("A", 40)
    with path.open("a") as handle:
        handle.write('{"kind": "window", "window": {"label": "A", "rou')  # the kill, mid-line
    state = read_journal(path)
    assert state.torn_line and state.calls == {"A": 40} and state.window_count == 0

    lines = path.read_text().split("\n")
    path.write_text("\n".join([lines[0], "{not json", lines[1]]) + "\n")
    with pytest.raises(UserError, match="corrupt at line 2"):
        read_journal(path)
    with pytest.raises(UserError, match="no run journal at"):
        read_journal(tmp_path / "missing.jsonl")
    (tmp_path / "other.jsonl").write_text('{"kind": "window"}\n')
    with pytest.raises(UserError, match="not a joulebench run journal"):
        read_journal(tmp_path / "other.jsonl")
    (tmp_path / "future.jsonl").write_text('{"kind": "start", "version": 99}\n')
    with pytest.raises(UserError, match="version 99"):
        read_journal(tmp_path / "future.jsonl")


def test_a_journal_is_never_started_over_an_existing_one(tmp_path):
    path = tmp_path / "run.journal.jsonl"
    Journal(path, {"command": "test"}).calibrated("A", 3)
    with pytest.raises(UserError, match="already exists: resume it"):
        Journal(path, {"command": "test"})
    assert read_journal(path).calls == {"A": 3}
