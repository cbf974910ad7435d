"""Manual meters: units, counter readings, meter logs integrated over a run's windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from joulebench.devices.manual import (
    ChargingWindowError,
    average_reading,
    counter_energy_j,
    counter_reading,
    energy_from_log,
    shortest_window_s,
)
from joulebench.devices.meterlog import read_log, split_header
from joulebench.devices.units import to_joules
from joulebench.errors import InvalidReadingError, UserError
from joulebench.testing import write_meter_log

RUN_START_S = 1_795_000_000.0  # Unix seconds, 2026-11-17


def schedule(
    windows: int = 5, window_s: float = 60.0, gap_s: float = 7.0
) -> list[tuple[float, float]]:
    """Windows as a run records them: busy spans separated by uneven idle gaps."""
    rng = np.random.default_rng(3)
    spans, t = [], RUN_START_S + 10.0
    for _ in range(windows):
        length = window_s * (1 + 0.1 * rng.random())
        spans.append((t, t + length))
        t += length + gap_s + rng.random()
    return spans


class StepTrace:
    """busy_w inside the windows (with a slow ripple), idle_w outside; exact energy."""

    def __init__(self, spans: list[tuple[float, float]], idle_w: float = 2.1, busy_w: float = 7.3):
        self.spans, self.idle_w, self.busy_w = spans, idle_w, busy_w

    def __call__(self, t: float) -> float:
        busy = any(a <= t < b for a, b in self.spans)
        return self.busy_w + 0.4 * np.sin(t / 3.0) if busy else self.idle_w

    def energy_j(self, a: float, b: float) -> float:
        """Exact: idle everywhere, plus (busy - idle + ripple) over each busy span."""
        energy_j = self.idle_w * (b - a)
        for start, end in self.spans:
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                ripple_j = 0.4 * 3.0 * (np.cos(lo / 3.0) - np.cos(hi / 3.0))
                energy_j += (self.busy_w - self.idle_w) * (hi - lo) + ripple_j
        return float(energy_j)


# --- units and counters -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "unit", "voltage_v"),
    [
        (3600.0, "J", None),
        (3.6, "kJ", None),
        (3600.0, "Ws", None),
        (1.0, "Wh", None),
        (1000.0, "mWh", None),
        (1e6, "µWh", None),
        (1e9, "nWh", None),  # Android's energy counter
        (200.0, "mAh", 5.0),
        (0.2, "Ah", 5.0),
        (200_000.0, "uAh", 5.0),  # Android's charge counter
        (720.0, "C", 5.0),
    ],
)
def test_every_unit_gives_the_same_joules(value: float, unit: str, voltage_v: float | None) -> None:
    assert to_joules(value, unit, voltage_v) == pytest.approx(3600.0)
    start = 12.5
    assert counter_energy_j(start, start + value, unit, voltage_v=voltage_v) == pytest.approx(
        3600.0
    )


def test_unknown_unit_and_missing_voltage_are_one_clear_line() -> None:
    with pytest.raises(UserError, match=r"unknown energy unit 'kcal'.*mWh"):
        to_joules(1.0, "kcal")
    with pytest.raises(UserError, match=r"needs the bus voltage.*--voltage-v"):
        to_joules(1.0, "mAh")
    with pytest.raises(UserError, match="not a finite number"):
        to_joules(float("nan"), "J")


def test_accumulator_that_goes_back_is_refused() -> None:
    with pytest.raises(InvalidReadingError, match=r"lower than the start reading.*redo"):
        counter_energy_j(105.0, 104.0, "mWh", where="readings.csv row 3")


def test_battery_counter_counts_down_and_a_rise_means_charging() -> None:
    assert counter_energy_j(3_000_000, 2_999_000, "uAh", voltage_v=3.87, counts="down") == (
        pytest.approx(1000e-6 * 3600 * 3.87)
    )
    with pytest.raises(ChargingWindowError, match="charging"):
        counter_energy_j(3_000_000, 3_000_500, "uAh", voltage_v=3.87, counts="down")


def test_counter_reading_flags_a_window_below_the_meters_resolution() -> None:
    coarse = counter_reading(100, 150, "mWh", 60.0, resolution=1.0)  # 180 J < 360 J
    fine = counter_reading(100, 250, "mWh", 60.0, resolution=1.0)  # 540 J
    assert coarse.details["low_resolution"] and not fine.details["low_resolution"]
    assert coarse.method == "manual" and coarse.details["confidence"] == "high"


def test_average_watts_is_the_lowest_confidence_form() -> None:
    reading = average_reading(4.2, 90.0)
    assert reading.energy_j == pytest.approx(378.0)
    assert reading.details["confidence"] == "low"
    with pytest.raises(InvalidReadingError):
        average_reading(float("nan"), 90.0)


def test_shortest_window_for_each_form() -> None:
    one_mwh_j = to_joules(1, "mWh")
    assert one_mwh_j / 0.01 == pytest.approx(360.0)  # the figure
    assert shortest_window_s("counter", power_w=2.0, resolution_j=one_mwh_j) == pytest.approx(180)
    assert shortest_window_s("log", sample_rate_hz=2.0) == pytest.approx(10.0)
    assert shortest_window_s("average") == pytest.approx(60.0)


# --- logs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("rate_hz", "tolerance"), [(10.0, 0.01), (1.0, 0.03)])
@pytest.mark.parametrize("style", ["fnb58", "um25c", "elapsed"])
def test_log_energy_per_window_is_within_tolerance_of_the_truth(
    tmp_path: Path, style: str, rate_hz: float, tolerance: float
) -> None:
    spans = schedule()
    trace = StepTrace(spans)
    meter_clock_ahead_s = 3.7  # the meter's clock runs 3.7 s ahead of the run's
    log_start_s = spans[0][0] - 8.0
    path = write_meter_log(
        tmp_path / f"{style}.csv",
        lambda t: trace(t - meter_clock_ahead_s),
        start_unix_s=log_start_s + meter_clock_ahead_s,
        duration_s=spans[-1][1] - spans[0][0] + 20.0,
        rate_hz=rate_hz,
        noise_frac=0.03,
        seed=11,
        style=style,  # type: ignore[arg-type]
        tz="Europe/Berlin",
    )
    offset_s = -meter_clock_ahead_s
    if style == "elapsed":  # seconds since the log started: the offset is its start time
        offset_s = log_start_s
    readings = energy_from_log(path, spans, clock_offset_s=offset_s, tz="Europe/Berlin")
    assert len(readings) == len(spans)
    for reading, (a, b) in zip(readings, spans, strict=True):
        truth_j = trace.energy_j(a, b)
        assert reading.energy_j == pytest.approx(truth_j, rel=tolerance)
        assert reading.duration_s == pytest.approx(b - a)
        assert reading.method == "manual" and reading.details["manual_form"] == "log"
        assert reading.details["samples"] >= int((b - a) * rate_hz) - 1


def test_ignoring_the_clock_offset_gives_a_different_answer(tmp_path: Path) -> None:
    spans = schedule(windows=3, window_s=20.0, gap_s=20.0)
    trace = StepTrace(spans)
    path = write_meter_log(
        tmp_path / "log.csv",
        lambda t: trace(t - 10.0),
        start_unix_s=spans[0][0] - 30.0,
        duration_s=200.0,
        rate_hz=10.0,
    )
    aligned = energy_from_log(path, spans, clock_offset_s=-10.0)
    unaligned = energy_from_log(path, spans)
    for good, bad, (a, b) in zip(aligned, unaligned, spans, strict=True):
        assert good.energy_j == pytest.approx(trace.energy_j(a, b), rel=0.01)
        assert abs(bad.energy_j - trace.energy_j(a, b)) > 0.05 * trace.energy_j(a, b)


def test_a_short_window_at_a_slow_rate_is_marked_low_resolution(tmp_path: Path) -> None:
    path = write_meter_log(
        tmp_path / "log.csv", lambda t: 3.0, start_unix_s=RUN_START_S, duration_s=60, rate_hz=1.0
    )
    short, long = energy_from_log(
        path, [(RUN_START_S + 5, RUN_START_S + 15), (RUN_START_S + 20, RUN_START_S + 50)]
    )
    assert short.details["low_resolution"] and not long.details["low_resolution"]
    assert short.energy_j == pytest.approx(30.0, rel=1e-4)  # the log keeps 5 digits


def test_a_window_outside_the_log_names_the_window_and_the_fix(tmp_path: Path) -> None:
    path = write_meter_log(
        tmp_path / "log.csv", lambda t: 3.0, start_unix_s=RUN_START_S, duration_s=60, rate_hz=2.0
    )
    windows = [(RUN_START_S + 5, RUN_START_S + 15), (RUN_START_S + 50, RUN_START_S + 70)]
    with pytest.raises(UserError, match=r"window 2 runs.*--clock-offset-s"):
        energy_from_log(path, windows)


def test_an_elapsed_log_without_an_offset_says_to_give_its_start_time(tmp_path: Path) -> None:
    path = write_meter_log(
        tmp_path / "log.csv", lambda t: 3.0, start_unix_s=RUN_START_S, duration_s=60,
        rate_hz=2.0, style="elapsed",
    )  # fmt: skip
    with pytest.raises(UserError, match="seconds since it started"):
        energy_from_log(path, [(RUN_START_S + 5, RUN_START_S + 15)])
    (reading,) = energy_from_log(path, [(5.0, 15.0)])  # on the log's own clock it is fine
    assert reading.energy_j == pytest.approx(30.0, rel=0.01)


def test_a_gap_in_the_log_inside_a_window_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    times = [RUN_START_S + t for t in (*range(0, 20), *range(35, 60))]
    path.write_text("timestamp,power_W\n" + "".join(f"{t},3.0\n" for t in times))
    with pytest.raises(UserError, match=r"16\.0 s gap inside window 1"):
        energy_from_log(path, [(RUN_START_S + 10, RUN_START_S + 50)])


def test_milliwatt_and_milliamp_columns_and_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "ma.txt"
    rows = "".join(f"{i * 500}  5000  {600}\n" for i in range(41))
    path.write_text("time_ms  Voltage_mV  Current_mA\n" + rows)
    log = read_log(path)
    assert log.time_kind == "elapsed" and log.sample_rate_hz == pytest.approx(2.0)
    assert log.power_w == pytest.approx(np.full(41, 3.0))
    (reading,) = energy_from_log(log, [(0.0, 20.0)])
    assert reading.energy_j == pytest.approx(60.0)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Voltage (V)", ("voltage", "v")),
        ("Intensity (A)", ("intensity", "a")),
        ("current_mA", ("current", "ma")),
        ("Power(W)", ("power", "w")),
        ("energy_Ws", ("energy", "ws")),  # read from a readings table, ignored in a log
        ("timestamp", ("timestamp", None)),
        ("W", ("w", "w")),
    ],
)
def test_header_names_and_units(header: str, expected: tuple[str, str | None]) -> None:
    assert split_header(header) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("timestamp,power_W\n1795000000,3\n1795000001,abc\n", r"row 3, column 'power_W'.*abc"),
        ("timestamp,power_W\n1795000000,3\n1795000001,nan\n", r"row 3, column 'power_W'"),
        ("timestamp,power_W\n1795000000,3\n1795000001,-2\n", r"row 3.*negative"),
        ("when,power_W\n1,3\n2,3\n", "no time column"),
        ("timestamp,temp_C\n1,3\n2,3\n", "needs a power column"),
        ("timestamp,power_W\n1795000002,3\n1795000001,3\n", r"row 3.*time goes backwards"),
        ("Date;Power (W)\n2026-11-23 14:00:00;3\nyesterday;3\n", r"row 3.*'yesterday'"),
        ("Date;Power (W)\n14:00:00;3\n14:00:01;3\n", r"row 2.*time of day with no date"),
        ("timestamp,power_W\n1795000000,3000000\n1795000001,3000000\n", "not plausible"),
        ("timestamp,power_W\n1795000000,3\n", "fewer than two samples"),
        ("", "is empty"),
    ],
)
def test_bad_logs_give_one_line_naming_file_row_and_column(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(UserError, match=message) as caught:
        read_log(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_missing_log_and_unknown_zone(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        read_log(tmp_path / "nope.csv")
    path = tmp_path / "naive.csv"
    path.write_text("Date,Power (W)\n2026-11-23 14:00:00,3\n2026-11-23 14:00:01,3\n")
    with pytest.raises(UserError, match="unknown time zone"):
        read_log(path, tz="Mars/Olympus")
    utc = read_log(path, tz="UTC")
    berlin = read_log(path, tz="Europe/Berlin")
    assert utc.t_s[0] - berlin.t_s[0] == pytest.approx(3600.0)  # CET is UTC+1 in November
