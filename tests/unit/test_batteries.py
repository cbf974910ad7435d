from __future__ import annotations

import math

import pytest

from joulebench.errors import UserError
from joulebench.reports import battery, inferences_per_charge


def test_named_profiles_hold_the_documented_assumptions():
    assert battery("phone").capacity_wh == pytest.approx(4.5 * 3.87)
    assert battery("laptop").capacity_wh == 60.0
    bank = battery("powerbank")
    assert bank.usable_energy_j == pytest.approx(10.0 * 3.7 * 3600 * 0.85)
    assert "85%" in bank.describe()


@pytest.mark.parametrize(
    ("spec", "wh", "eff"),
    [
        ("custom:5000mAh@3.85V", 19.25, 1.0),
        ("custom:50Wh", 50.0, 1.0),
        ("custom:2Ah@3.7V", 7.4, 1.0),
        ("custom:10000mAh@3.7Vx0.85", 37.0, 0.85),
    ],
)
def test_custom_batteries(spec, wh, eff):
    b = battery(spec)
    assert b.capacity_wh == pytest.approx(wh) and b.path_efficiency == eff


@pytest.mark.parametrize("spec", ["toaster", "custom:5000mAh", "custom:5000mAh@3.85Vx1.5"])
def test_bad_battery_specs_are_user_errors(spec):
    with pytest.raises(UserError):
        battery(spec)


def test_inferences_per_charge_and_its_interval():
    phone = battery("phone")
    charges = inferences_per_charge(phone, 0.05, 0.01)
    assert charges.value == pytest.approx(phone.usable_energy_j / 0.05)
    assert charges.low == pytest.approx(phone.usable_energy_j / 0.06)
    assert charges.high == pytest.approx(phone.usable_energy_j / 0.04)
    assert inferences_per_charge(phone, 0.05, 0.06).high == math.inf
    with pytest.raises(UserError, match="positive"):
        inferences_per_charge(phone, 0.0)
