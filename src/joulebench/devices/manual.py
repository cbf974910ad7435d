"""Energy a person measured with a multimeter, a USB power meter or a phone's battery counter.

Three forms, best first; every reading says which one made it and how far to trust it:

* ``counter`` — the meter's accumulated energy or charge read at the start and end of each
  window (J, Wh, mWh, or mAh with the bus voltage; Android's battery counters in µAh or nWh,
  which count *down* as the battery drains). Confidence ``high``.
* ``log`` — the meter's own timestamped log of watts (or volts and amps), integrated with the
  trapezoid rule over each window's recorded wall-clock start and end. Confidence ``medium``.
* ``average`` — the average watts the meter showed over a timed window. Confidence ``low``.

``energy_from_log`` is public API::

    readings = energy_from_log("meter_log.csv", windows=[(start_unix_s, end_unix_s), ...],
                               clock_offset_s=0.0)

``clock_offset_s`` is added to the log's times to put them on the run's clock: for a log of
elapsed seconds it is the Unix time at which the log started.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from joulebench.devices.base import Availability, EnergyReading, MeterAccuracy, Method
from joulebench.devices.meterlog import PowerLog, read_log
from joulebench.devices.units import is_charge_unit, to_joules
from joulebench.errors import InvalidReadingError, UserError

Form = Literal["counter", "log", "average"]
FORMS: dict[str, tuple[str, str]] = {
    "counter": ("counter readings", "high"),
    "log": ("timestamped meter log", "medium"),
    "average": ("average watts over a timed window", "low"),
}
"""Each manual form: what it is, in words, and the confidence it is labelled with."""

MIN_SAMPLES_PER_WINDOW = 20
"""A log needs at least this many samples inside a window (a 2 Hz log: windows >= 10 s)."""
MAX_GAP_FRAC = 0.10
"""A gap in the log longer than this fraction of a window makes the window unusable."""
REL_ERROR = 0.01
"""The quantisation error a window should stay under (1%)."""
TIMING_ERROR_S = 0.3
"""How far a person pressing Enter at a bell is off, at each end of a timed window."""
DEFAULT_MIN_WINDOW_S = 60.0
"""DESIGN.md's default window for manual meters."""


def form_label(form: str) -> str:
    """``"counter"`` -> ``"manual: counter readings (confidence high)"``."""
    words, confidence = FORMS.get(form, (form, "unknown"))
    return f"manual: {words} (confidence {confidence})"


def _details(form: Form, **extra: Any) -> dict[str, Any]:
    words, confidence = FORMS[form]
    return {"manual_form": form, "manual_form_label": words, "confidence": confidence, **extra}


class ChargingWindowError(InvalidReadingError):
    """A battery counter rose during the window: the device was charging, so the window is void."""


def counter_energy_j(
    start: float,
    end: float,
    unit: str,
    *,
    voltage_v: float | None = None,
    counts: Literal["up", "down"] = "up",
    where: str = "",
) -> float:
    """Energy between two counter readings, in joules.

    ``counts="up"`` is a meter's accumulator (energy used so far); ``"down"`` is a battery's
    remaining charge or energy (Android's ``CHARGE_COUNTER`` in µAh, ``ENERGY_COUNTER`` in nWh).
    A counter that moved the wrong way raises: an accumulator that went back was reset or
    misread; a battery counter that rose means the device was charging (the window is void).
    """
    place = f"{where}: " if where else ""
    start_j = to_joules(start, unit, voltage_v, where=where)
    end_j = to_joules(end, unit, voltage_v, where=where)
    if counts == "up":
        if end_j < start_j:
            raise InvalidReadingError(
                f"{place}end reading {end:g} {unit} is lower than the start reading {start:g}: "
                "the meter's counter was reset or a reading was mistyped; redo the window"
            )
        return end_j - start_j
    if end_j > start_j:
        raise ChargingWindowError(
            f"{place}the battery counter rose from {start:g} to {end:g} {unit}: the device was "
            "charging, so this window is void; unplug the charger and redo it"
        )
    return start_j - end_j


def counter_reading(
    start: float,
    end: float,
    unit: str,
    duration_s: float,
    *,
    voltage_v: float | None = None,
    counts: Literal["up", "down"] = "up",
    resolution: float | None = None,
    domain: str = "meter",
    scope: str = "meter",
    where: str = "",
) -> EnergyReading:
    """One window from counter readings (form ``counter``), with its resolution check.

    ``resolution`` is the counter's smallest step in ``unit`` (1 for a meter showing whole
    mWh); a window whose energy is under ``resolution / 1%`` is marked ``low_resolution``.
    """
    energy_j = counter_energy_j(start, end, unit, voltage_v=voltage_v, counts=counts, where=where)
    details = _details(
        "counter", unit=unit, start=start, end=end, counts=counts, voltage_v=voltage_v
    )
    if resolution is not None:
        resolution_j = to_joules(resolution, unit, voltage_v, where=where)
        details["resolution_j"] = resolution_j
        details["low_resolution"] = energy_j < resolution_j / REL_ERROR
    if is_charge_unit(unit):
        details["energy_from_charge"] = "charge x bus voltage (assumes a steady voltage)"
    return EnergyReading(domain, energy_j, duration_s, "manual", scope, details)


def average_reading(
    power_w: float, duration_s: float, *, domain: str = "meter", scope: str = "meter",
    where: str = "",
) -> EnergyReading:  # fmt: skip
    """One window from the average watts a meter showed over it (form ``average``)."""
    place = f"{where}: " if where else ""
    if not isinstance(power_w, (int, float)) or not math.isfinite(power_w) or power_w < 0:
        raise InvalidReadingError(
            f"{place}average power {power_w!r} W is not a non-negative number; read it again"
        )
    details = _details("average", power_w=power_w)
    details["low_resolution"] = duration_s < shortest_window_s("average")
    return EnergyReading(domain, power_w * duration_s, duration_s, "manual", scope, details)


def shortest_window_s(
    form: str,
    *,
    power_w: float | None = None,
    resolution_j: float | None = None,
    sample_rate_hz: float | None = None,
) -> float:
    """The shortest window this meter allows for a 1% figure.

    * counter: the energy must be ``resolution / 1%`` (a 1 mWh accumulator: 360 J), so
      ``360 J / power_w`` seconds;
    * log: ``MIN_SAMPLES_PER_WINDOW`` samples (a 2 Hz log: 10 s);
    * average: a person's timing error (~0.3 s at each end) under 1%: 60 s.
    """
    if form == "counter":
        if not resolution_j or not power_w or power_w <= 0:
            raise UserError("the counter's resolution and the device's power are both needed")
        return resolution_j / REL_ERROR / power_w
    if form == "log":
        if not sample_rate_hz or sample_rate_hz <= 0:
            raise UserError("the log's sample rate is needed")
        return MIN_SAMPLES_PER_WINDOW / sample_rate_hz
    if form == "average":
        return 2 * TIMING_ERROR_S / REL_ERROR
    raise UserError(f"unknown manual form {form!r}; use counter, log or average")


def _check_window(index: int, start_s: float, end_s: float) -> None:
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or end_s <= start_s:
        raise UserError(
            f"window {index + 1}: start {start_s!r} and end {end_s!r} are not a valid interval "
            "of Unix seconds (the end must come after the start)"
        )


def _fmt_time(t_s: float, kind: str) -> str:
    if kind == "elapsed":
        return f"{t_s:.1f} s"
    return f"{np.datetime64(int(t_s * 1000), 'ms')} UTC ({t_s:.1f})"


def energy_from_log(
    log: PowerLog | Path | str,
    windows: Sequence[tuple[float, float]],
    *,
    clock_offset_s: float = 0.0,
    tz: str | None = None,
    domain: str = "meter",
    scope: str = "meter",
) -> list[EnergyReading]:
    """One :class:`EnergyReading` per window, integrating the meter's log over it.

    ``windows`` are ``(start_unix_s, end_unix_s)`` pairs, as a run records them. The log's
    times plus ``clock_offset_s`` must cover every window, with no gap longer than 10% of a
    window; otherwise a :class:`~joulebench.errors.UserError` names the window and the fix. A
    battery log (``read_log(..., battery=True)``) that shows charging inside a window raises
    :class:`ChargingWindowError`: that window is void.
    Power between samples is linear (trapezoid rule); at a window's edges it is interpolated.
    """
    power_log = log if isinstance(log, PowerLog) else read_log(log, tz=tz)
    if not math.isfinite(clock_offset_s):
        raise UserError(f"clock offset {clock_offset_s!r} s is not a number")
    t_s = power_log.t_s + clock_offset_s
    power_w = power_log.power_w
    readings: list[EnergyReading] = []
    for index, (start_s, end_s) in enumerate(windows):
        _check_window(index, start_s, end_s)
        if start_s < t_s[0] or end_s > t_s[-1]:
            hint = (
                "its times are seconds since it started: give the Unix time it started as "
                "the clock offset (--clock-offset-s)"
                if power_log.time_kind == "elapsed" and clock_offset_s == 0.0
                else "check the clock offset (--clock-offset-s) and that the meter logged "
                "through the whole run"
            )
            raise UserError(
                f"meter log {power_log.source} covers {_fmt_time(t_s[0], 'unix')} to "
                f"{_fmt_time(t_s[-1], 'unix')} but window {index + 1} runs "
                f"{_fmt_time(start_s, 'unix')} to {_fmt_time(end_s, 'unix')}; {hint}"
            )
        lo = int(np.searchsorted(t_s, start_s, side="right")) - 1
        hi = int(np.searchsorted(t_s, end_s, side="left"))
        max_gap_s = float(np.max(np.diff(t_s[lo : hi + 1])))
        duration_s = end_s - start_s
        if max_gap_s > MAX_GAP_FRAC * duration_s:
            raise UserError(
                f"meter log {power_log.source} has a {max_gap_s:.1f} s gap inside window "
                f"{index + 1} ({duration_s:.1f} s long); the meter stopped logging: "
                "redo the window, or log at a steadier rate"
            )
        if (power_w[lo : hi + 1] < 0).any():
            raise ChargingWindowError(
                f"meter log {power_log.source}: the battery was charging during window "
                f"{index + 1} (current into the battery), so this window is void; unplug the "
                "charger and redo it"
            )
        inside = (t_s > start_s) & (t_s < end_s)
        times = np.concatenate(([start_s], t_s[inside], [end_s]))
        edges = np.interp([start_s, end_s], t_s, power_w)
        powers = np.concatenate(([edges[0]], power_w[inside], [edges[1]]))
        from scipy.integrate import trapezoid  # here: slow to import

        energy_j = float(trapezoid(powers, times))
        samples = int(((t_s >= start_s) & (t_s <= end_s)).sum())
        details = _details(
            "log",
            samples=samples,
            max_gap_s=max_gap_s,
            low_resolution=samples < MIN_SAMPLES_PER_WINDOW,
            clock_offset_s=clock_offset_s,
            log=power_log.source,
        )
        readings.append(EnergyReading(domain, energy_j, duration_s, "manual", scope, details))
    return readings


IDLE = "idle"
"""The label of an idle window (a person's meter reading with no inferences running)."""


@dataclass(frozen=True)
class ManualWindow:
    """One window a person measured: its reading, or the reason it is void."""

    label: str
    inferences: int
    reading: EnergyReading | None
    void_reason: str | None = None
    start_wall_s: float | None = None
    end_wall_s: float | None = None

    @property
    def is_idle(self) -> bool:
        """True for an idle window (no inferences; gives the idle power for net figures)."""
        return self.label.lower() == IDLE


MANUAL_ACCURACY = MeterAccuracy(
    None, "a person's meter: its manual states its accuracy; joulebench was not told it"
)


_ACCURACY = re.compile(
    r"^\s*(?P<rel>[0-9.]+)\s*%\s*(?:\+\s*(?P<offset>[0-9.]+)\s*(?P<unit>mW|W)\s*)?$"
)


def parse_accuracy(text: str) -> MeterAccuracy:
    """A meter's accuracy as its manual states it: ``1%``, ``0.5%+0.01W``, ``1%+20mW``."""
    match = _ACCURACY.match(text)
    if not match:
        raise UserError(
            f"meter accuracy {text!r} is not like 1% or 0.5%+0.01W (percent of the reading, "
            "plus an optional offset in W or mW, from the meter's manual)"
        )
    offset_w = float(match["offset"] or 0.0) * (1e-3 if match["unit"] == "mW" else 1.0)
    return MeterAccuracy(
        float(match["rel"]) / 100.0, f"the meter's specification, as given: {text.strip()}",
        offset_w,
    )  # fmt: skip


@dataclass(frozen=True)
class ManualMeter:
    """A person's meter, described for a results document (``method="manual"``).

    ``scope`` says what the meter measured: ``usb`` (a USB meter between charger and device),
    ``wall`` (a plug meter), ``battery`` (a phone's own battery counter), ``dc`` (a multimeter
    in series with a board's supply).
    """

    form: Form = "counter"
    scope: str = "usb"
    accuracy: MeterAccuracy = field(default=MANUAL_ACCURACY)

    name: ClassVar[str] = "manual"
    method: ClassVar[Method] = "manual"
    default_min_window_s: ClassVar[float] = DEFAULT_MIN_WINDOW_S

    @property
    def primary_domain(self) -> str:
        """Readings are recorded under the scope's name (``usb``, ``wall``, ...)."""
        return self.scope

    @classmethod
    def probe(cls) -> Availability:
        """Always available: a person brings the meter."""
        return Availability(True, "a person reads the meter (interactive or imported)")

    def describe(self) -> dict[str, Any]:
        """The meter's details for a result."""
        words, confidence = FORMS[self.form]
        return {
            "manual_form": self.form,
            "manual_form_label": words,
            "confidence": confidence,
            "method_label": form_label(self.form),
        }
