from __future__ import annotations

import math

import pytest

from joulebench.devices.base import Availability, EnergyReading, check_energy_j
from joulebench.errors import InvalidReadingError


@pytest.mark.parametrize("bad", [math.nan, math.inf, -0.001, "3", None, True])
def test_reading_refuses_energy_that_is_not_a_finite_non_negative_number(bad):
    with pytest.raises(InvalidReadingError, match="cpu:package-0"):
        EnergyReading("cpu:package-0", bad, 1.0, "counter")


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan])
def test_reading_refuses_a_window_without_positive_duration(bad):
    with pytest.raises(InvalidReadingError, match="duration"):
        EnergyReading("gpu", 1.0, bad, "counter")


def test_reading_power_is_energy_over_duration():
    assert EnergyReading("gpu", 30.0, 2.0, "counter", "board").power_w == pytest.approx(15.0)


def test_zero_energy_is_a_valid_number_but_negative_is_not():
    assert check_energy_j(0, "x") == 0.0
    with pytest.raises(InvalidReadingError, match="negative"):
        check_energy_j(-1e-9, "x")


def test_availability_is_falsy_when_unavailable_and_message_joins_reason_and_fix():
    no = Availability(False, "no counter", "use --meter estimate")
    assert not no
    assert no.message() == "no counter; use --meter estimate"
    assert Availability(True, "ok")
