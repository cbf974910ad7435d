"""An ESTIMATE of CPU energy where no counter exists: CPU time x watts per busy core + idle.

This is not a measurement and must never be mistaken for one: its readings say
``method="estimated"``, and every table, file and plot built from them says "estimated".

The default figures are rules of thumb, overridable with ``--cpu-watts`` / ``--idle-watts``:

* ``cpu_w_per_core = 5.0`` W per fully busy core: TDP divided by cores of common parts
  (Xeon Platinum 8380: 270 W / 40 = 6.8 W; EPYC 7763: 280 W / 64 = 4.4 W; Core i7-12700:
  65 W / 12 = 5.4 W; laptop parts 15 W / 4 = 3.8 W). Real figures differ by a factor of two
  either way with clocks, vector width and memory traffic.
* ``idle_w_per_core = 1.0`` W per logical core while the process is idle: package idle power
  of modern parts is roughly 10-20 % of TDP.

Energy of a window = (process CPU time, children included) x ``cpu_w_per_core``
+ window duration x ``idle_w``, with ``idle_w`` = ``idle_w_per_core`` x logical cores unless
given. The harness's idle windows then show ``idle_w`` and the net figure is the CPU-time term.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from joulebench.clock import SYSTEM_CLOCK, Clock
from joulebench.devices.base import Availability, EnergyReading, MeterAccuracy, Method
from joulebench.errors import DeviceError, UserError

DEFAULT_CPU_W_PER_CORE = 5.0
DEFAULT_IDLE_W_PER_CORE = 1.0
SOURCE = (
    "CPU time x {cpu_w:g} W per busy core + {idle_w:g} W idle ({origin}); "
    "a rule of thumb, off by up to 2x: set --cpu-watts/--idle-watts from your CPU's data sheet"
)


def process_cpu_time_s() -> float:
    """CPU seconds used by this process (all threads) and its waited-for children."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def cpu_time_of(pids: list[int]) -> Callable[[], float]:
    """A CPU-time source for this process plus the given (worker) processes."""
    import psutil

    def total() -> float:
        seconds = process_cpu_time_s()
        for pid in pids:
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue  # a worker that has ended adds nothing more
            seconds += times.user + times.system
        return seconds

    return total


@dataclass
class EstimateMeter:
    """Estimated energy from CPU time (``method="estimated"``, never a measurement)."""

    cpu_w_per_core: float = DEFAULT_CPU_W_PER_CORE
    idle_w: float | None = None
    clock: Clock = SYSTEM_CLOCK
    cpu_time_s: Callable[[], float] = process_cpu_time_s

    name: ClassVar[str] = "estimate"
    method: ClassVar[Method] = "estimated"
    primary_domain: ClassVar[str] = "cpu"
    scope: ClassVar[str] = "process-cpu-time"
    default_min_window_s: ClassVar[float] = 1.0
    accuracy: ClassVar[MeterAccuracy] = MeterAccuracy(
        1.0, "a rule of thumb from CPU time and TDP per core: off by up to a factor of 2"
    )

    source: str = field(init=False, default="")
    _start: tuple[float, float] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        origin = "idle given"
        if self.idle_w is None:
            cores = os.cpu_count() or 1
            self.idle_w = DEFAULT_IDLE_W_PER_CORE * cores
            origin = f"{DEFAULT_IDLE_W_PER_CORE:g} W x {cores} logical cores"
        for label, value in (("--cpu-watts", self.cpu_w_per_core), ("--idle-watts", self.idle_w)):
            if not value >= 0 or value == float("inf"):
                raise UserError(f"{label} must be a finite number of watts >= 0, got {value!r}")
        self.source = SOURCE.format(cpu_w=self.cpu_w_per_core, idle_w=self.idle_w, origin=origin)

    @classmethod
    def probe(cls) -> Availability:
        """Always available: it needs only the process's CPU time."""
        return Availability(True, "always available; an ESTIMATE from CPU time, not a measurement")

    def begin(self) -> None:
        """Remember the clock and the CPU time used so far."""
        if self._start is not None:
            raise DeviceError("estimate meter: begin() called twice without end()")
        self._start = (self.clock.monotonic(), self.cpu_time_s())

    def end(self) -> list[EnergyReading]:
        """The estimated energy since ``begin``."""
        if self._start is None:
            raise DeviceError("estimate meter: end() called without begin()")
        (t0_s, cpu0_s), self._start = self._start, None
        duration_s = self.clock.monotonic() - t0_s
        cpu_s = max(self.cpu_time_s() - cpu0_s, 0.0)  # CPU clocks tick coarsely; never below 0
        assert self.idle_w is not None
        energy_j = cpu_s * self.cpu_w_per_core + duration_s * self.idle_w
        details = {
            "cpu_time_s": cpu_s,
            "cpu_w_per_core": self.cpu_w_per_core,
            "idle_w": self.idle_w,
            "source": self.source,
        }
        return [EnergyReading("cpu", energy_j, duration_s, "estimated", self.scope, details)]

    def close(self) -> None:
        """Nothing to release."""
        self._start = None
