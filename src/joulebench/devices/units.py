"""Units a person reads off a meter, converted to SI once (J, W, V, A, s).

Energy counters (J, kJ, Ws, Wh, mWh, µWh, nWh — Android's energy counter is in nWh) convert
directly; charge counters (C, As, Ah, mAh, µAh — Android's charge counter is in µAh) need the
bus voltage, ``E = Q × V``. Names are matched case-insensitively, with ``u`` or ``µ`` for micro.
"""

from __future__ import annotations

import math

from joulebench.errors import UserError

ENERGY_UNITS_J: dict[str, float] = {
    "j": 1.0,
    "ws": 1.0,
    "kj": 1e3,
    "mj": 1e-3,
    "wh": 3600.0,
    "kwh": 3.6e6,
    "mwh": 3.6,
    "uwh": 3.6e-3,
    "nwh": 3.6e-6,
}
"""Joules per unit of an energy counter. ``mWh`` is milliwatt-hours (never megawatt-hours)."""

CHARGE_UNITS_C: dict[str, float] = {
    "c": 1.0,
    "as": 1.0,
    "ah": 3600.0,
    "mah": 3.6,
    "uah": 3.6e-3,
}
"""Coulombs per unit of a charge counter (multiply by the bus voltage for joules)."""

POWER_UNITS_W: dict[str, float] = {"w": 1.0, "mw": 1e-3, "uw": 1e-6, "kw": 1e3}
VOLTAGE_UNITS_V: dict[str, float] = {"v": 1.0, "mv": 1e-3, "uv": 1e-6}
CURRENT_UNITS_A: dict[str, float] = {"a": 1.0, "ma": 1e-3, "ua": 1e-6}
TIME_UNITS_S: dict[str, float] = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "min": 60.0, "h": 3600.0}

ENERGY_UNIT_NAMES = "J, kJ, Ws, Wh, mWh, µWh, nWh, or C, As, Ah, mAh, µAh with the bus voltage"


def normalize_unit(unit: str) -> str:
    """``"mWh"`` -> ``"mwh"``, ``"µAh"`` -> ``"uah"``, ``" W·s "`` -> ``"ws"``."""
    return (
        unit.strip()
        .lower()
        .replace("µ", "u")
        .replace("μ", "u")  # Greek mu, as some exports spell it
        .replace("·", "")
        .replace("*", "")
        .replace(" ", "")
    )


def is_charge_unit(unit: str) -> bool:
    """True for a charge unit (mAh, µAh, ...), which needs a voltage to become energy."""
    return normalize_unit(unit) in CHARGE_UNITS_C


def is_energy_unit(unit: str) -> bool:
    """True for an energy or charge unit joulebench knows."""
    key = normalize_unit(unit)
    return key in ENERGY_UNITS_J or key in CHARGE_UNITS_C


def to_joules(value: float, unit: str, voltage_v: float | None = None, *, where: str = "") -> float:
    """``value`` in ``unit`` as joules; charge units need ``voltage_v`` (the bus voltage).

    ``where`` names the input (file, row, column) in the error message.
    """
    place = f"{where}: " if where else ""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise UserError(f"{place}reading {value!r} is not a finite number; enter it as digits")
    key = normalize_unit(unit)
    if key in ENERGY_UNITS_J:
        return float(value) * ENERGY_UNITS_J[key]
    if key in CHARGE_UNITS_C:
        if voltage_v is None:
            raise UserError(
                f"{place}a charge reading in {unit} needs the bus voltage to become energy; "
                "give it with --voltage-v (e.g. 5.0 for USB, 3.87 for a phone battery)"
            )
        if not math.isfinite(voltage_v) or voltage_v <= 0:
            raise UserError(f"{place}bus voltage {voltage_v!r} V is not a positive number")
        return float(value) * CHARGE_UNITS_C[key] * voltage_v
    raise UserError(f"{place}unknown energy unit {unit!r}; use one of {ENERGY_UNIT_NAMES}")


def scale(unit: str, table: dict[str, float], quantity: str, *, where: str = "") -> float:
    """The factor that turns ``unit`` into SI for ``quantity`` (looked up in ``table``)."""
    key = normalize_unit(unit)
    if key not in table:
        place = f"{where}: " if where else ""
        known = ", ".join(table)
        raise UserError(f"{place}unknown {quantity} unit {unit!r}; use one of {known}")
    return table[key]
