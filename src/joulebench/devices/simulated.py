"""A SIMULATED meter: replays a known power trace. For tests, docs and ``--meter simulated``.

Its readings say ``method="simulated"``: they are never a measurement. The trace is a constant
(watts), a callable ``t_s -> watts`` (``t_s`` counted from the meter's creation), or anything
with an ``energy_j(t0_s, t1_s)`` method that integrates itself exactly. ``noise_frac`` adds
seeded, unbiased multiplicative noise to each window, like a meter with a known error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from joulebench.clock import SYSTEM_CLOCK, Clock
from joulebench.devices.base import Availability, EnergyReading, MeterAccuracy, Method
from joulebench.errors import DeviceError, InvalidReadingError, UserError

PowerTrace = float | Callable[[float], float]
GRID_POINTS = 4097
"""Points per window when integrating a callable trace (trapezoid rule)."""


@dataclass
class SimulatedMeter:
    """Energy from a known power trace (``method="simulated"``)."""

    power_w: Any = 15.0
    noise_frac: float = 0.0
    seed: int | None = None
    clock: Clock = SYSTEM_CLOCK

    name: ClassVar[str] = "simulated"
    method: ClassVar[Method] = "simulated"
    primary_domain: ClassVar[str] = "sim"
    scope: ClassVar[str] = "simulated"
    default_min_window_s: ClassVar[float] = 0.5
    accuracy: ClassVar[MeterAccuracy] = MeterAccuracy(
        0.0, "simulated: the trace is replayed exactly; its noise is random, not systematic"
    )

    _t0_s: float = field(init=False, default=0.0)
    _begin_s: float | None = field(init=False, default=None)
    _rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        if isinstance(self.power_w, (int, float)) and (
            not math.isfinite(self.power_w) or self.power_w < 0
        ):
            raise UserError(f"simulated power must be finite watts >= 0, got {self.power_w!r}")
        if not 0 <= self.noise_frac < 1:
            raise UserError(f"noise_frac must be in [0, 1), got {self.noise_frac!r}")
        self._rng = np.random.default_rng(self.seed)
        self._t0_s = self.clock.monotonic()

    @classmethod
    def probe(cls) -> Availability:
        """Always available; SIMULATED readings, never a measurement."""
        return Availability(True, "always available; SIMULATED readings from a given power trace")

    def energy_between_j(self, t0_s: float, t1_s: float) -> float:
        """The trace's exact (constant, self-integrating) or trapezoid energy over [t0, t1]."""
        trace = self.power_w
        if isinstance(trace, (int, float)):
            return float(trace) * (t1_s - t0_s)
        if hasattr(trace, "energy_j"):
            return float(trace.energy_j(t0_s, t1_s))
        times = np.linspace(t0_s, t1_s, GRID_POINTS)
        watts = np.array([float(trace(t)) for t in times])
        if not np.all(np.isfinite(watts)) or np.any(watts < 0):
            raise InvalidReadingError(
                "the simulated power trace gave a negative or non-finite power; fix the trace"
            )
        from scipy.integrate import trapezoid  # here: slow to import

        return float(trapezoid(watts, times))

    def begin(self) -> None:
        """Remember when the window began."""
        if self._begin_s is not None:
            raise DeviceError("simulated meter: begin() called twice without end()")
        self._begin_s = self.clock.monotonic() - self._t0_s

    def end(self) -> list[EnergyReading]:
        """The trace's energy over the window, with the configured noise."""
        if self._begin_s is None:
            raise DeviceError("simulated meter: end() called without begin()")
        t0_s, self._begin_s = self._begin_s, None
        t1_s = self.clock.monotonic() - self._t0_s
        energy_j = self.energy_between_j(t0_s, t1_s)
        if self.noise_frac:
            energy_j *= 1.0 + self._rng.normal(0.0, self.noise_frac)
            energy_j = max(energy_j, 0.0)
        return [
            EnergyReading(
                "sim",
                energy_j,
                t1_s - t0_s,
                "simulated",
                "simulated",
                {"noise_frac": self.noise_frac},
            )
        ]

    def close(self) -> None:
        """Nothing to release."""
        self._begin_s = None
