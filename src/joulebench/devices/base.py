"""The meter contract: what every energy meter gives and how it says it cannot measure.

``devices/`` is the lowest layer of joulebench: nothing here imports the harness, the results
store or the reports (a test checks the import graph). Nothing touches hardware at import time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from joulebench.errors import InvalidReadingError

Method = Literal["counter", "integrated", "manual", "estimated", "simulated"]
"""How an energy figure was made. Only ``counter``, ``integrated`` and ``manual`` are measured."""

MEASURED_METHODS: frozenset[str] = frozenset({"counter", "integrated", "manual"})

METHOD_LABELS: Mapping[str, str] = {
    "counter": "measured (hardware energy counter)",
    "integrated": "measured (power samples integrated over time)",
    "manual": "measured (manual meter readings)",
    "estimated": "ESTIMATED (not measured)",
    "simulated": "SIMULATED (not measured)",
}


@dataclass(frozen=True, slots=True)
class EnergyReading:
    """Energy of one window in one domain, in SI units.

    ``scope`` says what the figure covers (``package``, ``dram``, ``package+dram``, ``psys``,
    ``board``, ``wall``, ``process-cpu-time``, ``simulated``); ``details`` holds what the meter
    saw during the window (clocks, temperature, power field used, throttle reasons).
    """

    domain: str
    energy_j: float
    duration_s: float
    method: Method
    scope: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_energy_j(self.energy_j, self.domain)
        if not math.isfinite(self.duration_s) or self.duration_s <= 0:
            raise InvalidReadingError(
                f"meter domain {self.domain!r} gave a window duration of {self.duration_s!r} s; "
                "a window must last a positive, finite time"
            )

    @property
    def power_w(self) -> float:
        """Mean power over the window, in watts."""
        return self.energy_j / self.duration_s

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (``EnergyReading(**d)`` rebuilds it)."""
        return {
            "domain": self.domain,
            "energy_j": self.energy_j,
            "duration_s": self.duration_s,
            "method": self.method,
            "scope": self.scope,
            "details": dict(self.details),
        }


def check_energy_j(energy_j: float, domain: str) -> float:
    """Return ``energy_j`` if it is a finite, non-negative number, else raise InvalidReadingError.

    Missing is not zero: a meter that has no figure raises; it never returns 0 J or NaN.
    """
    if not isinstance(energy_j, (int, float)) or isinstance(energy_j, bool):
        raise InvalidReadingError(
            f"meter domain {domain!r} gave {energy_j!r}, not a number of joules"
        )
    if math.isnan(energy_j) or math.isinf(energy_j):
        raise InvalidReadingError(
            f"meter domain {domain!r} gave a non-finite energy ({energy_j!r} J); "
            "the counter or power trace is broken"
        )
    if energy_j < 0:
        raise InvalidReadingError(
            f"meter domain {domain!r} gave a negative energy ({energy_j!r} J); "
            "energy is never negative: the counter went backwards or was reset"
        )
    return float(energy_j)


@dataclass(frozen=True, slots=True)
class MeterAccuracy:
    """A meter's own stated accuracy: a **systematic** bound, apart from the statistical ±.

    The statistical ± (the 95% interval over windows) shrinks with more windows; this does not:
    a meter that reads 3% high reads 3% high in every window. ``rel_frac`` is the bound as a
    fraction of the reading (0.05 = ±5%), ``offset_w`` an extra ± in watts where the
    specification gives one; ``rel_frac=None`` means no accuracy is stated (then none is
    claimed, never 0). ``source`` says where the figure comes from.
    """

    rel_frac: float | None
    source: str
    offset_w: float = 0.0

    def __post_init__(self) -> None:
        for name, value in (("rel_frac", self.rel_frac), ("offset_w", self.offset_w)):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"meter accuracy {name} must be finite and >= 0, got {value!r}")

    @property
    def stated(self) -> bool:
        """True when the meter's accuracy is known (a bound can be given)."""
        return self.rel_frac is not None

    def bound_j(self, energy_j: float, duration_s: float) -> float | None:
        """The ± bound (J) on a figure of ``energy_j`` made over ``duration_s``; None if unknown."""
        if self.rel_frac is None:
            return None
        return self.rel_frac * abs(energy_j) + self.offset_w * duration_s

    def describe(self) -> str:
        """``±5% (NVIDIA's NVML documentation)``, or ``not stated (...)``."""
        if self.rel_frac is None:
            return f"not stated ({self.source})"
        offset = f" + {self.offset_w:g} W" if self.offset_w else ""
        return f"±{self.rel_frac:.0%}{offset} ({self.source})"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (``MeterAccuracy(**d)`` rebuilds it)."""
        return {"rel_frac": self.rel_frac, "source": self.source, "offset_w": self.offset_w}


UNSTATED_ACCURACY = MeterAccuracy(None, "the meter does not state its accuracy")


def meter_accuracy(meter: Any) -> MeterAccuracy:
    """The meter's stated accuracy (its ``accuracy`` attribute), or 'not stated'."""
    accuracy = getattr(meter, "accuracy", None)
    return accuracy if isinstance(accuracy, MeterAccuracy) else UNSTATED_ACCURACY


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether a meter can measure here; if not, ``reason`` says why and ``fix`` what to do."""

    available: bool
    reason: str = ""
    fix: str = ""

    def __bool__(self) -> bool:
        return self.available

    def message(self) -> str:
        """One line: the reason and the fix."""
        return f"{self.reason}; {self.fix}" if self.fix else self.reason


@runtime_checkable
class EnergyMeter(Protocol):
    """An energy meter. ``begin`` opens a window, ``end`` closes it and returns its readings.

    ``end`` returns one reading per domain. The reading whose domain is ``primary_domain`` is
    the figure the harness reports (e.g. ``cpu`` = packages + dram for RAPL). A window that
    cannot be trusted raises :class:`~joulebench.errors.InvalidWindowError`; a meter never
    returns an invented or zero figure in place of a missing one.
    """

    name: ClassVar[str]
    method: Method
    scope: str
    primary_domain: str
    default_min_window_s: float

    @classmethod
    def probe(cls) -> Availability:
        """Can this meter measure on this machine? Cheap, and safe on any machine."""
        ...

    def begin(self) -> None:
        """Open a window: remember the counters' start values (and start any polling)."""
        ...

    def end(self) -> list[EnergyReading]:
        """Close the window and return its readings, one per domain."""
        ...

    def close(self) -> None:
        """Release what the meter holds (threads, library handles). Safe to call twice."""
        ...


def primary_reading(meter: EnergyMeter, readings: list[EnergyReading]) -> EnergyReading:
    """The reading of ``meter.primary_domain`` among ``readings``."""
    for reading in readings:
        if reading.domain == meter.primary_domain:
            return reading
    domains = ", ".join(r.domain for r in readings) or "none"
    raise InvalidReadingError(
        f"meter {meter.name!r} gave no reading for its primary domain "
        f"{meter.primary_domain!r} (it gave: {domains})"
    )
