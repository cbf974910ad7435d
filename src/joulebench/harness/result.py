"""What a measurement returns: every window's raw readings and the derived figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from joulebench.devices.base import MEASURED_METHODS, METHOD_LABELS, EnergyReading, MeterAccuracy
from joulebench.harness.settings import ProtocolSettings
from joulebench.harness.stats import Summary

IDLE_LABEL = "idle"


@dataclass(frozen=True, slots=True)
class WorkDone:
    """What ``workload(n)`` may return: how many items (inferences) its ``n`` calls ran.

    A variant's call is a batch, and a short last batch holds fewer examples: returning the
    true count keeps every per-inference figure honest. ``latencies_s`` and ``latency_items``
    optionally give each call's own time and its items (for latency percentiles).
    """

    items: int
    latencies_s: tuple[float, ...] = ()
    latency_items: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.items, bool) or not isinstance(self.items, int) or self.items < 0:
            raise ValueError(f"WorkDone.items must be a whole number >= 0, got {self.items!r}")
        if len(self.latencies_s) != len(self.latency_items):
            raise ValueError("WorkDone: one item count per latency")

    @classmethod
    def combine(cls, parts: list[WorkDone]) -> WorkDone:
        """Several calls' work as one."""
        return cls(
            sum(p.items for p in parts),
            tuple(t for p in parts for t in p.latencies_s),
            tuple(k for p in parts for k in p.latency_items),
        )


@dataclass(frozen=True, slots=True)
class Window:
    """One window: ``calls`` back-to-back calls (0 for idle) between ``meter.begin``/``end``.

    ``items`` is how many inferences those calls actually ran (a short last batch counts its
    own examples, never the nominal batch size); for a plain workload one call is one item.
    """

    label: str
    round_index: int
    calls: int
    items: int
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
    position: int | None = None
    """Where the window ran in its round (0 = first); the order is shuffled every round."""
    latencies_s: tuple[float, ...] = ()
    """Every batch's own time inside the window (variants only; empty for plain workloads)."""
    latency_items: tuple[int, ...] = ()
    """The items of each batch in ``latencies_s`` (a short last batch has fewer)."""
    run: int = 0
    """Which run (worker process, ``--repeat``) the window came from; 0 for a single run."""
    foreign: dict[str, Any] | None = None
    """What other processes used during the window (``harness.contamination``): foreign CPU
    seconds and cores, and foreign GPU processes where the meter lists them; None where not
    checked (readings a person took)."""

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
    """Energy and time per item of one workload, with 95% intervals, and every raw window.

    An item is one inference: one call of a plain workload, one example of a model variant
    (each window's energy is divided by the items it actually ran). ``energy_per_item_j`` is
    **gross** (what drains a battery); ``net_energy_per_item_j`` is gross minus idle power x
    time, or None with ``net_error`` saying why (never a negative number).
    """

    label: str
    meter: str
    method: str
    scope: str
    meter_reason: str
    calls_per_window: int
    energy_per_item_j: Summary
    net_energy_per_item_j: Summary | None
    net_error: str | None
    duration_per_item_s: Summary
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
    stopping: dict[str, Any] = field(default_factory=dict)
    """The stopping rule and its parameters (``rule``: ``fixed`` or ``stein-two-stage``)."""
    order: tuple[tuple[str, ...], ...] = ()
    """The order of the windows in every round (shuffled, seeded): the run's, shared."""
    order_seed: int | None = None
    """The seed of the shuffled order and the pre-window sleeps (drawn and kept when not given)."""
    accuracy: MeterAccuracy | None = None
    """The meter's own stated accuracy: systematic, apart from the statistical ± over windows."""

    @property
    def systematic_energy_per_item_j(self) -> float | None:
        """The meter's own accuracy bound (±J) on the gross figure; None where not stated.

        Systematic: it does not shrink with more windows, so it is shown apart from ``ci95``.
        """
        if self.accuracy is None or not self.accuracy.stated:
            return None
        return self.accuracy.bound_j(self.energy_per_item_j.mean, self.duration_per_item_s.mean)

    @property
    def systematic_net_energy_per_item_j(self) -> float | None:
        """The meter's bound (±J) on the net figure: both the loaded and the idle reading may
        be off by the stated accuracy, so the bound covers gross + idle energy (worst case)."""
        if self.accuracy is None or not self.accuracy.stated or self.net_energy_per_item_j is None:
            return None
        gross = self.energy_per_item_j.mean
        idle_j = gross - self.net_energy_per_item_j.mean
        return self.accuracy.bound_j(gross + idle_j, 2 * self.duration_per_item_s.mean)

    @property
    def measured(self) -> bool:
        """True only for figures a meter measured (not estimated, not simulated)."""
        return self.method in MEASURED_METHODS

    @property
    def method_label(self) -> str:
        """How the figure was made, in words: 'measured (...)', 'ESTIMATED ...', 'SIMULATED ...'."""
        return METHOD_LABELS.get(self.method, self.method)
