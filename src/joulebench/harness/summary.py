"""From raw windows to figures: gross and net energy per item, intervals and flags.

Per item: each window's energy (and time) is divided by the items it actually ran.
Net: each window's energy less idle power x its duration, where the idle power is that of
the idle window **of the same round** (the order in a round is shuffled, so an idle window
is as often before a workload's window as after it, and slow drift of the baseline cancels
within the round); a round whose idle window was discarded uses the mean of all idle windows.
The per-window net values then carry the idle windows' own noise into their interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from joulebench.devices.base import EnergyMeter, meter_accuracy
from joulebench.harness import stopping as stopping_rules
from joulebench.harness.contamination import is_contamination
from joulebench.harness.result import Discarded, Flag, MeasureResult, Window
from joulebench.harness.settings import ProtocolSettings
from joulebench.harness.stats import (
    OUTLIER_FRAC,
    UNSTABLE_CV,
    Summary,
    outliers,
    summarize,
    t_halfwidth,
)

RECOMMENDED_WINDOWS = 5


def idle_power_by_round(idle_windows: Sequence[Window]) -> dict[int, float]:
    """Idle power (W) of each round's idle window."""
    return {w.round_index: w.power_w for w in idle_windows}


def net_values(
    windows: Sequence[Window], idle_power_w: float, idle_by_round: dict[int, float] | None
) -> list[float]:
    """Each window's net energy per item: its energy less idle power x its meter span, the
    idle power of its own round where known (else ``idle_power_w``), over its items."""
    rounds = idle_by_round or {}
    return [
        (w.energy_j - rounds.get(w.round_index, idle_power_w) * w.meter_duration_s) / w.items
        for w in windows
    ]


def net_summary(
    windows: Sequence[Window],
    idle_power: Summary,
    idle_by_round: dict[int, float] | None = None,
    *,
    pilot: int | None = None,
) -> tuple[Summary | None, str | None]:
    """Net energy per item = (E - P_idle x t) / items per window, with its 95% half-width.

    With ``idle_by_round`` each window uses its own round's idle power (falling back to the
    run's mean idle power) and the interval comes from the spread of the per-window net values,
    which already holds the idle windows' noise. Without it (readings a person took, whose
    rows have no rounds) every window uses the mean idle power and that mean's uncertainty is
    added in quadrature (``ci_idle x mean(t / items)``). A net figure that is not positive is
    refused with the reason; it is never reported as a number.
    """
    paired = idle_by_round is not None
    values = net_values(windows, idle_power.mean, idle_by_round)
    spread = summarize(values, "net energy per item", pilot=pilot)
    if spread.mean <= 0:
        return None, (
            f"net energy per item came out {spread.mean:.3g} J (not positive): idle power "
            f"({idle_power.mean:.3g} W) was at least the loaded power. Something else loaded "
            "the machine during idle windows, or the workload is too small for this meter; "
            "quieten the machine or make each call bigger"
        )
    if paired:
        return spread, None
    seconds_per_item = sum(w.meter_duration_s / w.items for w in windows) / len(windows)
    return replace(spread, ci95=math.hypot(spread.ci95, idle_power.ci95 * seconds_per_item)), None


def _flags(
    label: str,
    energy: Summary,
    per_item: list[float],
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
                f"energy per item varies {energy.cv:.0%} (CV) across windows: "
                "close other programs, "
                "set the CPU governor to performance, or raise --min-window-s",
            )
        )
    for index in outliers(per_item, OUTLIER_FRAC):
        flags.append(
            Flag(
                "outlier",
                f"window {index + 1} is "
                f"{abs(per_item[index] - energy.mean) / energy.mean:.0%} from "
                "the mean: something else ran then; rerun or raise --windows",
            )
        )
    contaminated = [(i, f) for i, w in enumerate(windows) for f in w.flags if is_contamination(f)]
    if contaminated:
        first, reason = contaminated[0]
        flags.append(
            Flag(
                "contaminated",
                f"{len(contaminated)} window(s) kept although other processes ran during "
                f"them (window {first + 1}: {reason.split(': ', 1)[-1]}; retaken up to "
                f"{settings.contaminated_retakes} times until the load proved steady): close "
                "other programs and rerun, or raise max_foreign_cores if that load is part of "
                "the device's normal use",
            )
        )
    drifted = [
        (i, drift)
        for i, w in enumerate(windows)
        if (drift := [f for f in w.flags if not is_contamination(f)])
    ]
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
                f"the windows Stein's rule planned for a ci95 of {settings.target_ci:.1%} of "
                f"the mean did not fit in max_windows={settings.max_windows} or "
                f"{settings.max_time_s:.0f} s: the interval is wider; raise max_windows or "
                "max_time_s (`run`/`measure` --max-windows, --max-time-s; the demo's --full "
                "tier has the highest caps) or measure on a quieter machine",
            )
        )
    if energy.interval == stopping_rules.RULE_STEIN:
        plain = t_halfwidth(energy.std, energy.n)
        if plain > stopping_rules.UNREPRESENTATIVE_RATIO * energy.ci95:
            flags.append(
                Flag(
                    "pilot-unrepresentative",
                    f"the windows after the pilot varied much more than the pilot did (plain "
                    f"interval ±{plain / energy.mean:.1%} vs the two-stage ±"
                    f"{energy.rel_ci95:.1%}): something changed during the run; rerun with "
                    "more --windows so the pilot sees the noise",
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
    stopping: dict[str, Any] | None = None,
    order: tuple[tuple[str, ...], ...] = (),
    order_seed: int | None = None,
    pair_idle: bool = True,
) -> MeasureResult:
    """Summarise one workload's windows (and the run's idle windows) into a result.

    ``stopping`` is the stopping rule's record (``harness.stopping.describe``); after Stein's
    two-stage rule every per-window figure gets Stein's interval from the pilot windows.
    ``pair_idle``: net each window against its own round's idle window (False for readings
    without rounds).
    """
    stopping = stopping or stopping_rules.describe(rule=stopping_rules.RULE_FIXED,
                                                   windows=len(windows))  # fmt: skip
    pilot = stopping.get("pilot_windows") if stopping["rule"] == stopping_rules.RULE_STEIN else None
    per_item = [w.energy_j / w.items for w in windows]
    energy = summarize(per_item, f"{label}: energy per item", pilot=pilot)
    duration = summarize(
        [w.duration_s / w.items for w in windows], f"{label}: time per item", pilot=pilot
    )
    power = summarize([w.power_w for w in windows], f"{label}: power")
    idle_power = net = net_error = None
    if idle_windows:
        idle_power = summarize([w.power_w for w in idle_windows], "idle power")
        by_round = idle_power_by_round(idle_windows) if pair_idle else None
        net, net_error = net_summary(windows, idle_power, by_round, pilot=pilot)
    else:
        net_error = "idle power was not measured (idle=False)"
    flags = _flags(label, energy, per_item, windows, discarded, target_met, settings)
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
        energy_per_item_j=energy,
        net_energy_per_item_j=net,
        net_error=net_error,
        duration_per_item_s=duration,
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
        stopping={**stopping, "idle": "paired by round" if pair_idle else "run mean"},
        order=order,
        order_seed=order_seed,
        accuracy=meter_accuracy(meter),
    )
