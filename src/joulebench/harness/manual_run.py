"""Windows a person measured with a meter, summarised like the harness's own windows.

Readings come from a table (``joulebench import-readings``) or from an interactive recording
(``joulebench record``); each variant's windows become a :class:`MeasureResult` with the same
statistics, intervals and flags as a run the harness drove (idle rows give net figures).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from statistics import median

from joulebench.devices.base import EnergyReading, MeterAccuracy
from joulebench.devices.manual import (
    FORMS,
    MANUAL_ACCURACY,
    Form,
    ManualMeter,
    ManualWindow,
    shortest_window_s,
)
from joulebench.errors import UserError
from joulebench.harness.result import Discarded, Flag, MeasureResult, Window
from joulebench.harness.settings import make_settings
from joulebench.harness.summary import build_result


def _window(item: ManualWindow, index: int) -> Window:
    assert item.reading is not None
    reading = item.reading
    return Window(
        label=item.label,
        round_index=index,
        calls=item.inferences,
        items=item.inferences,
        start_wall_s=item.start_wall_s,
        end_wall_s=item.end_wall_s,
        duration_s=reading.duration_s,
        energy_j=reading.energy_j,
        meter_duration_s=reading.duration_s,
        readings=(reading,),
        host_begin={},
        host_end={},
    )


def resolution_advice(coarse: Sequence[EnergyReading], total: int) -> str:
    """Why ``coarse`` windows are too short for their meter, and how long they must be."""
    needed_s = []
    for reading in coarse:
        details = reading.details
        if details.get("resolution_j") and reading.power_w > 0:
            needed_s.append(
                shortest_window_s(
                    "counter", power_w=reading.power_w, resolution_j=details["resolution_j"]
                )
            )
        elif details.get("manual_form") == "log" and details.get("samples"):
            rate_hz = details["samples"] / reading.duration_s
            needed_s.append(shortest_window_s("log", sample_rate_hz=rate_hz))
        else:
            needed_s.append(shortest_window_s(details.get("manual_form", "average")))
    return (
        f"{len(coarse)} of {total} window(s) are too short for the meter's resolution "
        f"(1% needs at least {max(needed_s):.0f} s per window at this power); make windows longer"
    )


def weakest_form(readings: Sequence[EnergyReading]) -> Form:
    """The least trusted manual form among ``readings`` (a variant is as good as its worst)."""
    order = list(FORMS)  # best first
    forms = [r.details.get("manual_form", "average") for r in readings]
    return max(forms, key=lambda f: order.index(f) if f in order else len(order))  # type: ignore[return-value]


def manual_results(
    items: Sequence[ManualWindow],
    *,
    scope: str,
    device: str,
    source: str,
    accuracy: MeterAccuracy = MANUAL_ACCURACY,
) -> list[MeasureResult]:
    """One result per variant (in first-seen order), sharing the idle windows.

    Each variant's meter is labelled with the weakest form among its readings; ``accuracy``
    is the meter's stated accuracy (from its manual; 'not stated' unless given).
    """
    idle = [_window(w, i) for i, w in enumerate(x for x in items if x.is_idle and x.reading)]
    if len(idle) == 1:
        raise UserError(
            f"{source}: one idle window is not enough for an idle power with an interval; "
            "add another idle row, or none (then no net figure is given)"
        )
    results: list[MeasureResult] = []
    for label in dict.fromkeys(w.label for w in items if not w.is_idle):
        mine = [w for w in items if w.label == label]
        usable = [w for w in mine if w.reading is not None]
        void = [
            Discarded(label, i, w.void_reason or "void")
            for i, w in enumerate(mine)
            if not w.reading
        ]
        if len(usable) < 2:
            raise UserError(
                f"{source}: variant {label!r} has {len(usable)} usable window(s); an interval "
                "needs at least 2 (5 recommended): record more windows"
            )
        windows = [_window(w, i) for i, w in enumerate(usable)]
        meter = ManualMeter(weakest_form([w.reading for w in usable if w.reading]), scope, accuracy)
        details = {**meter.describe(), "device": device, "source": source}
        settings = make_settings(
            windows=len(windows), idle=bool(idle), min_window_s=meter.default_min_window_s,
            warmup_calls=0, warmup_s=0.0, sleep_max_s=0.0,
        )  # fmt: skip
        result = build_result(
            label=label,
            meter=meter,  # type: ignore[arg-type]  # a descriptor: nothing to begin or end
            meter_reason=f"readings from a person's meter ({details['method_label']})",
            meter_details=details,
            calls_per_window=int(median(w.inferences for w in usable)),
            windows=windows,
            idle_windows=idle,
            discarded=(),
            settings=settings,
            min_window_s=meter.default_min_window_s,
            threads={},
            target_met=None,
            pair_idle=False,
        )
        flags = [  # the harness's advice names its options; a person records more windows
            Flag(
                f.code, f"only {len(windows)} windows; record 5 or more for a trustworthy interval"
            )
            if f.code == "few-windows"
            else f
            for f in result.flags
        ]
        coarse = [
            w.reading for w in usable if w.reading and w.reading.details.get("low_resolution")
        ]
        if coarse:
            flags.append(Flag("low-resolution", resolution_advice(coarse, len(usable))))
        if void:
            flags.append(
                Flag("void", f"{len(void)} window(s) void and left out: {void[-1].reason}")
            )
        results.append(replace(result, flags=tuple(flags), discarded=tuple(void)))
    if not results:
        raise UserError(f"{source}: only idle rows; add rows for the variants you measured")
    return results
