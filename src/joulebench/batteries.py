"""Batteries: how many inferences one charge buys.

``inferences_per_charge = capacity_Wh x 3600 x usable_fraction x path_efficiency / gross J``.
Gross energy (what drains the battery), never net. Component-level readings (RAPL package,
NVML board) leave out the rest of the device, so the count they give is optimistic.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from joulebench.errors import UserError


@dataclass(frozen=True, slots=True)
class Battery:
    """A battery and the path from it to the load."""

    name: str
    capacity_wh: float
    usable_fraction: float = 1.0
    path_efficiency: float = 1.0
    note: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.capacity_wh) and self.capacity_wh > 0):
            raise UserError(
                f"battery {self.name!r}: capacity must be positive, got {self.capacity_wh}"
            )
        for label, value in (
            ("usable_fraction", self.usable_fraction),
            ("path_efficiency", self.path_efficiency),
        ):
            if not 0 < value <= 1:
                raise UserError(f"battery {self.name!r}: {label} must be in (0, 1], got {value}")

    @property
    def usable_energy_j(self) -> float:
        """Joules one full charge delivers to the load."""
        return self.capacity_wh * 3600.0 * self.usable_fraction * self.path_efficiency

    def describe(self) -> str:
        """One line: capacity, fractions, and the assumption."""
        parts = [f"{self.name}: {self.capacity_wh:.4g} Wh"]
        if self.usable_fraction != 1.0:
            parts.append(f"{self.usable_fraction:.0%} usable")
        if self.path_efficiency != 1.0:
            parts.append(f"{self.path_efficiency:.0%} conversion efficiency")
        text = ", ".join(parts)
        return f"{text} ({self.note})" if self.note else text


def _mah(mah: float, volts: float) -> float:
    return mah / 1000.0 * volts


PROFILES: dict[str, Battery] = {
    "phone": Battery("phone", _mah(4500, 3.87), note="4500 mAh at 3.87 V, a typical 2023 phone"),
    "laptop": Battery("laptop", 60.0, note="60 Wh, a typical 14-inch laptop"),
    "powerbank": Battery(
        "powerbank",
        _mah(10_000, 3.7),
        path_efficiency=0.85,
        note="10 000 mAh at 3.7 V cells, 85% through the 5 V boost converter",
    ),
}

_CUSTOM = re.compile(
    r"^custom:(?P<amount>[0-9.]+)\s*(?P<unit>mAh|Ah|Wh)(?:@(?P<volts>[0-9.]+)V)?"
    r"(?:x(?P<eff>[0-9.]+))?$",
    re.IGNORECASE,
)


def battery(spec: str) -> Battery:
    """A named profile (``phone``, ``laptop``, ``powerbank``) or ``custom:5000mAh@3.85V``.

    Custom forms: ``custom:50Wh``, ``custom:5000mAh@3.85V``, ``custom:2Ah@3.7V``, and an
    optional ``x0.85`` conversion efficiency at the end.
    """
    key = spec.strip()
    if key.lower() in PROFILES:
        return PROFILES[key.lower()]
    match = _CUSTOM.match(key)
    if not match:
        raise UserError(
            f"unknown battery {spec!r}; use {', '.join(PROFILES)} or custom:5000mAh@3.85V "
            "(or custom:50Wh, optionally ending in x0.85 for conversion efficiency)"
        )
    amount, unit, volts = float(match["amount"]), match["unit"].lower(), match["volts"]
    if unit == "wh":
        capacity_wh = amount
    elif volts is None:
        raise UserError(
            f"battery {spec!r}: a charge in {match['unit']} needs a voltage, e.g. @3.85V"
        )
    else:
        capacity_wh = amount * (1e-3 if unit == "mah" else 1.0) * float(volts)
    efficiency = float(match["eff"]) if match["eff"] else 1.0
    return Battery(key, capacity_wh, path_efficiency=efficiency, note="custom")


@dataclass(frozen=True, slots=True)
class Charges:
    """Inferences per charge with the 95% interval carried over from the energy figure."""

    value: float
    low: float
    high: float


def inferences_per_charge(battery: Battery, energy_j: float, energy_ci95_j: float = 0.0) -> Charges:
    """How many inferences of ``energy_j`` (gross, J) one charge buys, with its interval.

    The interval maps the energy's 95% interval through ``capacity / E`` (monotone, so its
    ends map to ends); where the energy interval reaches 0 the upper end is infinite.
    """
    if not (math.isfinite(energy_j) and energy_j > 0):
        raise UserError(f"energy per inference must be positive to count charges, got {energy_j}")
    usable_j = battery.usable_energy_j
    upper_j = energy_j + energy_ci95_j
    lower_j = energy_j - energy_ci95_j
    return Charges(
        usable_j / energy_j,
        usable_j / upper_j,
        usable_j / lower_j if lower_j > 0 else math.inf,
    )
