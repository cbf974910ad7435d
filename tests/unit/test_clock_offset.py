"""A meter log's clock offset found from the run's windows (seeded synthetic logs)."""

from __future__ import annotations

import numpy as np
import pytest

from joulebench.devices.clock_offset import estimate_clock_offset
from joulebench.devices.meterlog import read_log
from joulebench.errors import UserError
from joulebench.testing import write_meter_log

START_S, WINDOW_S, GAP_S = 1_795_000_000.0, 30.0, 4.0
SPANS = [(START_S + 10 + i * (WINDOW_S + GAP_S), START_S + 10 + i * (WINDOW_S + GAP_S) + WINDOW_S)
         for i in range(9)]  # fmt: skip
LEVELS_W = [4.2, 1.3, 5.0, 3.1, 1.3, 4.2, 5.0, 1.3, 3.1]  # variants and idle, shuffled


def power_w(t: float) -> float:
    for (a, b), level in zip(SPANS, LEVELS_W, strict=True):
        if a <= t < b:
            return level
    return 1.3


def log_of(tmp_path, offset_s, style, rate_hz, power=power_w):
    path = write_meter_log(tmp_path / f"{style}-{rate_hz}.csv", lambda t: power(t - offset_s),
                           start_unix_s=START_S + offset_s, duration_s=SPANS[-1][1] - START_S + 20,
                           rate_hz=rate_hz, noise_frac=0.03, seed=3, style=style)  # fmt: skip
    return read_log(path, tz="UTC")


@pytest.mark.parametrize(("rate_hz", "tolerance_s"), [(1.0, 0.5), (10.0, 0.05)])
@pytest.mark.parametrize("offset_s", [-7.3, 0.0, 41.0])
def test_the_offset_is_found_within_half_a_sample_for_a_clock_time_log(
    tmp_path, rate_hz, tolerance_s, offset_s
):
    estimate = estimate_clock_offset(log_of(tmp_path, offset_s, "fnb58", rate_hz), SPANS)
    assert estimate.offset_s == pytest.approx(-offset_s, abs=tolerance_s)
    assert estimate.resolution_s == pytest.approx(0.5 / rate_hz)
    assert estimate.explained > 0.9


def test_a_log_of_elapsed_seconds_gets_its_start_time_as_the_offset(tmp_path):
    estimate = estimate_clock_offset(log_of(tmp_path, 3.0, "elapsed", 2.0), SPANS)
    # elapsed 0 is the log's first sample, taken at START_S on the run's clock (the meter's
    # own clock said START_S + 3, but an elapsed log does not show it)
    assert estimate.offset_s == pytest.approx(START_S, abs=0.25)


def test_a_log_without_the_runs_steps_is_refused_with_the_fix(tmp_path):
    flat = log_of(tmp_path, 0.0, "fnb58", 1.0, power=lambda t: 2.0 + 0.0 * t)
    with pytest.raises(UserError, match=r"explain only .* give --clock-offset-s"):
        estimate_clock_offset(flat, SPANS)


def test_a_log_too_short_for_the_run_is_refused(tmp_path):
    log = log_of(tmp_path, 0.0, "fnb58", 1.0)
    short = type(log)(log.source, log.t_s[:50], log.power_w[:50], log.time_kind)
    with pytest.raises(UserError, match="shorter than the run"):
        estimate_clock_offset(short, SPANS)
    assert np.all(np.diff(log.t_s) > 0)
