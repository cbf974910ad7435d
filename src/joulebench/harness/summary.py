"""From raw windows to figures: gross and net energy per call, intervals and flags."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from joulebench.devices.base import EnergyMeter
from joulebench.harness.result import Discarded, Flag, MeasureResult, Window
from joulebench.harness.settings import ProtocolSettings
from joulebench.harness.stats import (
    OUTLIER_FRAC,
    UNSTABLE_CV,
    Summary,
    outliers,
    summarize,
)

RECOMMENDED_WINDOWS = 5


def net_summary(
    windows: Sequence[Window], idle_power: Summary
) -> tuple[Summary | None, str | None]:
    """Net energy per call = (E - P_idle x t) / n per window, with its 95% half-width.

    The half-width combines the spread of the per-window net values with the uncertainty of
    the idle power (``ci_idle x mean(t / n)``) in quadrature. A net figure that is not
    positive is refused with the reason; it is never reported as a number.
    """
    values = [(w.energy_j - idle_power.mean * w.meter_duration_s) / w.calls for w in windows]
    spread = summarize(values, "net energy per call")
    seconds_per_call = sum(w.meter_duration_s / w.calls for w in windows) / len(windows)
    ci95 = math.hypot(spread.ci95, idle_power.ci95 * seconds_per_call)
    if spread.mean <= 0:
        return None, (
            f"net energy per call came out {spread.mean:.3g} J (not positive): idle power "
            f"({idle_power.mean:.3g} W) was at least the loaded power. Something else loaded "
            "the machine during idle windows, or the workload is too small for this meter; "
            "quieten the machine or make each call bigger"
        )
    return replace(spread, ci95=ci95), None


def _flags(
    label: str,
    energy: Summary,
    per_call: list[float],
    windows: Sequence[Window],
    discarded: Sequence[Discarded],
    target_met: bool | None,
    settings: ProtocolSettings,
) -> list[Flag]:
    flags: list[Flag] = []
    if energy.n < RECOMMENDED_WINDOWS:
        flags.append(
            Flag(
                "few-windows",
                f"only {energy.n} windows; use --windows 5 or more for a trustworthy interval",
            )
        )
    if energy.cv >= UNSTABLE_CV:
        flags.append(
            Flag(
                "unstable",
                f"energy per call varies {energy.cv:.0%} (CV) across windows: "
                "close other programs, "
                "set the CPU governor to performance, or raise --min-window-s",
            )
        )
    for index in outliers(per_call, OUTLIER_FRAC):
        flags.append(
            Flag(
                "outlier",
                f"window {index + 1} is "
                f"{abs(per_call[index] - energy.mean) / energy.mean:.0%} from "
                "the mean: something else ran then; rerun or raise --windows",
            )
        )
    drifted = [(i, w.flags) for i, w in enumerate(windows) if w.flags]
    if drifted:
        flags.append(
            Flag(
                "drift",
                "conditions drifted in window(s) "
                + "; ".join(f"{i + 1}: {', '.join(f)}" for i, f in drifted)
                + ": let the machine cool, fix its clocks, or rerun",
            )
        )
    short = [
        i for i, w in enumerate(windows) if any(r.details.get("short_window") for r in w.readings)
    ]
    if short:
        flags.append(
            Flag(
                "short-window",
                f"{len(short)} window(s) under 5 s, where NVML's sensor "
                "is coarse: raise --min-window-s to 10",
            )
        )
    if discarded:
        flags.append(
            Flag(
                "discarded",
                f"{len(discarded)} window(s) discarded and remeasured: " + discarded[-1].reason,
            )
        )
    if target_met is False:
        flags.append(
            Flag(
                "target-not-met",
                f"ci95 did not reach {settings.target_ci:.1%} of the "
                f"mean within {settings.max_time_s:.0f} s",
            )
        )
    return flags


def build_result(
    *,
    label: str,
    meter: EnergyMeter,
    meter_reason: str,
    meter_details: dict[str, Any],
    calls_per_window: int,
    windows: Sequence[Window],
    idle_windows: Sequence[Window],
    discarded: Sequence[Discarded],
    settings: ProtocolSettings,
    min_window_s: float,
    threads: dict[str, Any],
    target_met: bool | None,
    interrupted: bool = False,
) -> MeasureResult:
    """Summarise one workload's windows (and the run's idle windows) into a result."""
    per_call = [w.energy_j / w.calls for w in windows]
    energy = summarize(per_call, f"{label}: energy per call")
    duration = summarize([w.duration_s / w.calls for w in windows], f"{label}: time per call")
    power = summarize([w.power_w for w in windows], f"{label}: power")
    idle_power = net = net_error = None
    if idle_windows:
        idle_power = summarize([w.power_w for w in idle_windows], "idle power")
        net, net_error = net_summary(windows, idle_power)
    else:
        net_error = "idle power was not measured (idle=False)"
    flags = _flags(label, energy, per_call, windows, discarded, target_met, settings)
    if interrupted:
        flags.append(
            Flag(
                "interrupted",
                f"stopped by Ctrl-C after {energy.n} windows; rerun for the full protocol",
            )
        )
    if idle_windows and net_error:
        flags.append(Flag("net-not-positive", net_error))
    return MeasureResult(
        label=label,
        meter=meter.name,
        method=meter.method,
        scope=meter.scope,
        meter_reason=meter_reason,
        calls_per_window=calls_per_window,
        energy_per_call_j=energy,
        net_energy_per_call_j=net,
        net_error=net_error,
        duration_per_call_s=duration,
        power_w=power,
        idle_power_w=idle_power,
        windows=tuple(windows),
        idle_windows=tuple(idle_windows),
        discarded=tuple(discarded),
        flags=tuple(flags),
        settings=settings,
        min_window_s=min_window_s,
        threads=threads,
        target_met=target_met,
        meter_details=meter_details,
        interrupted=interrupted,
    )
