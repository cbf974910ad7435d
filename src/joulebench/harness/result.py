"""What a measurement returns: every window's raw readings and the derived figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from joulebench.devices.base import MEASURED_METHODS, METHOD_LABELS, EnergyReading
from joulebench.harness.settings import ProtocolSettings
from joulebench.harness.stats import Summary

IDLE_LABEL = "idle"


@dataclass(frozen=True, slots=True)
class Window:
    """One window: ``calls`` back-to-back calls (0 for idle) between ``meter.begin``/``end``."""

    label: str
    round_index: int
    calls: int
    start_wall_s: float | None
    """Unix time the window opened; None for readings entered after the fact without times."""
    end_wall_s: float | None
    duration_s: float
    """Time the workload itself took (harness clock); the meter's span is in the readings."""
    energy_j: float
    """The meter's primary-domain energy for the window."""
    meter_duration_s: float
    readings: tuple[EnergyReading, ...]
    host_begin: dict[str, Any]
    host_end: dict[str, Any]
    flags: tuple[str, ...] = ()

    @property
    def power_w(self) -> float:
        """Mean primary-domain power over the meter's span."""
        return self.energy_j / self.meter_duration_s


@dataclass(frozen=True, slots=True)
class Discarded:
    """A window the meter could not vouch for, and why (it counts for nothing)."""

    label: str
    round_index: int
    reason: str


@dataclass(frozen=True, slots=True)
class Flag:
    """A warning about a result, with its reason and fix (pyperf's ``format_checks`` style)."""

    code: str
    message: str


@dataclass(frozen=True)
class MeasureResult:
    """Energy and time per call of one workload, with 95% intervals, and every raw window.

    ``energy_per_call_j`` is **gross** (what drains a battery); ``net_energy_per_call_j`` is gross
    minus idle power x time, or None with ``net_error`` saying why (never a negative number).
    """

    label: str
    meter: str
    method: str
    scope: str
    meter_reason: str
    calls_per_window: int
    energy_per_call_j: Summary
    net_energy_per_call_j: Summary | None
    net_error: str | None
    duration_per_call_s: Summary
    power_w: Summary
    idle_power_w: Summary | None
    windows: tuple[Window, ...]
    idle_windows: tuple[Window, ...]
    discarded: tuple[Discarded, ...]
    flags: tuple[Flag, ...]
    settings: ProtocolSettings
    min_window_s: float
    threads: dict[str, Any]
    target_met: bool | None
    meter_details: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False
    """Ctrl-C stopped the run early: the figures use the windows taken until then."""

    @property
    def measured(self) -> bool:
        """True only for figures a meter measured (not estimated, not simulated)."""
        return self.method in MEASURED_METHODS

    @property
    def method_label(self) -> str:
        """How the figure was made, in words: 'measured (...)', 'ESTIMATED ...', 'SIMULATED ...'."""
        return METHOD_LABELS.get(self.method, self.method)
