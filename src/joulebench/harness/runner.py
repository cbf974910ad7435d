"""The measurement loop: warm up, calibrate, take windows in a shuffled order, summarise.

Protocol (docs/protocol.md, "How joulebench measures"):

1. Warm each workload up: at least ``warmup_calls`` calls and ``warmup_s`` seconds.
2. Calibrate ``n`` calls per window so one window lasts at least ``min_window_s``.
3. Take windows in rounds. Every round holds one window of each workload and one idle window,
   in an order shuffled anew each round (seeded; the seed and every round's order are kept),
   so no window always inherits the same predecessor's tail. Before each window: a fixed
   ``settle_s`` pause, then a random 0-``sleep_max_s`` sleep.
4. Each window counts the **items** its calls actually ran (a workload may return
   :class:`WorkDone`; otherwise one call is one item): per-item figures divide by them.
5. Idle windows (a sleep of ``min_window_s``) measured the same way give idle power; each
   window's net energy subtracts the idle power of its own round's idle window.
6. A fixed number of rounds (``windows``), or with ``target_ci`` Stein's two-stage rule
   (``harness.stopping``): a pilot, then the number of windows the pilot says the target
   needs, capped by ``max_windows`` and ``max_time_s``.
7. Summarise with 95% intervals (Student t; Stein's after an adaptive stop) and flag what a
   careful reader must know.
"""

from __future__ import annotations

import math
import random
import secrets
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from joulebench.clock import SYSTEM_CLOCK, Clock
from joulebench.devices.base import EnergyMeter, primary_reading
from joulebench.devices.registry import choose_meter
from joulebench.errors import (
    InvalidWindowError,
    JoulebenchError,
    MeasurementError,
    UserError,
    WorkloadError,
)
from joulebench.harness import stopping, telemetry
from joulebench.harness.contamination import (
    UsageProbe,
    UsageSample,
    foreign_load,
    is_contamination,
    probe_for,
    verdict,
)
from joulebench.harness.drift import run_median_freq, window_drift
from joulebench.harness.events import Event
from joulebench.harness.journal import Journal, JournalState
from joulebench.harness.result import IDLE_LABEL, Discarded, MeasureResult, Window, WorkDone
from joulebench.harness.settings import ProtocolSettings, make_settings
from joulebench.harness.stages import stage_event, timed_stage
from joulebench.harness.summary import build_result

Workload = Callable[[int], Any]
"""``workload(n)`` runs ``n`` calls back to back; it may return :class:`WorkDone` to say how
many items (inferences) those calls ran, else each call counts as one item."""
HostProbe = Callable[[], telemetry.HostSnapshot]
MAX_CALIBRATION_STEPS = 12
CALIBRATION_MARGIN = 1.1
"""Calibrate windows 10% longer than ``min_window_s``; a window that still ends short is
topped up with more calls, so no window is ever shorter than ``min_window_s``."""
TOP_UP_FRACTION = 0.1


def _noop(_: Event) -> None:
    return None


def work_done(returned: Any, calls: int) -> WorkDone:
    """What ``workload(calls)`` did: its :class:`WorkDone`, or one item per call."""
    if isinstance(returned, WorkDone):
        return returned
    return WorkDone(calls)


class _Session:
    """State of one measurement run (not public: use :func:`measure` / :func:`measure_many`)."""

    def __init__(
        self,
        meter: EnergyMeter,
        settings: ProtocolSettings,
        min_window_s: float,
        clock: Clock,
        host_probe: HostProbe,
        on_event: Callable[[Event], None],
        seed: int | str,
        usage_probe: UsageProbe | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.meter = meter
        self.usage_probe = usage_probe
        self.journal = journal
        self.steady_load = False
        """A window stayed contaminated through its retakes: later ones are not retaken."""
        self.settings = settings
        self.min_window_s = min_window_s
        self.clock = clock
        self.host_probe = host_probe
        self.emit = on_event
        self.rng = random.Random(seed)
        self.windows: dict[str, list[Window]] = {}
        self.discarded: list[Discarded] = []
        self.order: list[tuple[str, ...]] = []

    def _call(self, label: str, workload: Workload, calls: int, stage: str) -> float:
        t0_s = self.clock.monotonic()
        try:
            workload(calls)
        except (KeyboardInterrupt, JoulebenchError):
            raise
        except Exception as exc:
            raise WorkloadError(
                f"workload {label!r} raised {type(exc).__name__}: {exc} (during {stage}); "
                "fix the workload: run it alone to see the traceback"
            ) from exc
        return self.clock.monotonic() - t0_s

    def warm_up(self, label: str, workload: Workload) -> float:
        """Run the warm-up; return the median seconds per call of its calls.

        The median, not the last call: a workload that rounds a test set ends a pass on a
        short last batch, and a window calibrated from that one call ran about twice as long
        as it needed (the quick demo's windows took 1.3 s for a 0.55 s aim)."""
        start_s = self.clock.monotonic()
        durations_s: list[float] = []
        while (
            len(durations_s) < max(self.settings.warmup_calls, 1)
            or self.clock.monotonic() - start_s < self.settings.warmup_s
        ):
            durations_s.append(self._call(label, workload, 1, "warm-up"))
        self.emit(
            Event(
                "warmup",
                label,
                f"{len(durations_s)} calls in {self.clock.monotonic() - start_s:.1f} s",
            )
        )
        return statistics.median(durations_s)

    def calibrate(self, label: str, workload: Workload, per_call_s: float) -> int:
        """Calls per window so a window lasts at least ``min_window_s`` (checked by a run)."""
        target_s = self.min_window_s * CALIBRATION_MARGIN
        per_call_s = per_call_s if per_call_s > 0 else 1e-6
        calls = max(1, math.ceil(target_s / per_call_s))
        for _ in range(MAX_CALIBRATION_STEPS):
            duration_s = self._call(label, workload, calls, "calibration")
            if duration_s >= target_s:
                self.emit(
                    Event("calibrated", label, f"{calls} calls per window ({duration_s:.2f} s)")
                )
                return calls
            grow = 1.05 * target_s / duration_s if duration_s > 0 else 10.0
            calls = max(calls + 1, math.ceil(calls * min(grow, 10.0)))
        raise MeasurementError(
            f"workload {label!r}: could not calibrate a window of {self.min_window_s} s "
            f"(last try: {calls} calls); does workload(n) really run n calls?"
        )

    def take_window(
        self,
        label: str,
        round_index: int,
        position: int,
        run: Callable[[], tuple[int, WorkDone]],
    ) -> None:
        """One window, retaken (up to ``contaminated_retakes`` times) while other processes
        load the machine during it; the last try is kept, flagged ``contaminated``."""
        retakes = 0 if self.steady_load else self.settings.contaminated_retakes
        for attempt in range(retakes + 1):
            window = self._window(label, round_index, position, run)
            if window is None:
                return
            flag = next((f for f in window.flags if is_contamination(f)), None)
            if flag is not None and attempt < retakes:
                self._discard(Discarded(label, round_index, f"{flag} (retaken)"))
                continue
            if flag is not None and not self.steady_load:
                # the load outlasted every retake: it is steady, and retakes would only
                # lengthen the run; the windows from here on are kept, each flagged
                self.steady_load = True
                self.emit(
                    Event(
                        "contaminated",
                        label,
                        "another program's load outlasted the retakes: no more retakes, the "
                        "loaded windows are flagged; close it and rerun for clean figures",
                    )
                )
            self.windows.setdefault(label, []).append(window)
            if self.journal is not None:
                self.journal.window(window)
            self.emit(
                Event("window", label, f"{window.energy_j:.4g} J in {window.duration_s:.2f} s")
            )
            return

    def _discard(self, discarded: Discarded) -> None:
        self.discarded.append(discarded)
        if self.journal is not None:
            self.journal.discarded(discarded)
        self.emit(Event("discarded", discarded.label, discarded.reason))

    def _usage(self) -> UsageSample | None:
        return self.usage_probe.sample() if self.usage_probe is not None else None

    def _window(
        self,
        label: str,
        round_index: int,
        position: int,
        run: Callable[[], tuple[int, WorkDone]],
    ) -> Window | None:
        """Settle, sleep a random while, then begin, run, end; the window, or None when the
        meter voided it. ``run()`` returns the calls it made (more than planned when topped
        up) and what they did."""
        self.clock.sleep(self.settings.settle_s)
        self.clock.sleep(self.rng.uniform(0.0, self.settings.sleep_max_s))
        host_begin = self.host_probe().to_dict()
        usage_begin = self._usage()
        start_wall_s = self.clock.wall()
        self.meter.begin()
        t0_s = self.clock.monotonic()
        try:
            calls, done = run()
        except (KeyboardInterrupt, JoulebenchError):
            self.meter.close()
            raise
        except Exception as exc:
            self.meter.close()
            raise WorkloadError(
                f"workload {label!r} raised {type(exc).__name__}: {exc} (during window "
                f"{round_index + 1}); fix the workload: run it alone to see the traceback"
            ) from exc
        duration_s = self.clock.monotonic() - t0_s
        try:
            readings = self.meter.end()
        except InvalidWindowError as exc:
            self._discard(Discarded(label, round_index, str(exc)))
            invalid = [d for d in self.discarded if not is_contamination(d.reason)]
            if len(invalid) > self.settings.max_discarded_windows:
                raise MeasurementError(
                    f"{len(invalid)} windows discarded (more than "
                    f"max_discarded_windows={self.settings.max_discarded_windows}); last: {exc}"
                ) from None
            return None
        usage_end = self._usage()
        if label != IDLE_LABEL and done.items <= 0:
            raise WorkloadError(
                f"workload {label!r} reported {done.items} items for a window of {calls} calls; "
                "a window must run at least one item (return WorkDone(items=...) with the count)"
            )
        foreign, flags = None, ()
        if usage_begin is not None and usage_end is not None:
            load = foreign_load(usage_begin, usage_end)
            foreign = load.to_dict()
            limit = self.settings.max_foreign_cores
            flag = verdict(load, limit) if limit is not None else None
            flags = (flag,) if flag else ()
        primary = primary_reading(self.meter, readings)
        return Window(
            label=label,
            round_index=round_index,
            calls=calls,
            items=done.items,
            start_wall_s=start_wall_s,
            end_wall_s=self.clock.wall(),
            duration_s=duration_s,
            energy_j=primary.energy_j,
            meter_duration_s=primary.duration_s,
            readings=tuple(readings),
            host_begin=host_begin,
            host_end=self.host_probe().to_dict(),
            flags=flags,
            position=position,
            latencies_s=done.latencies_s,
            latency_items=done.latency_items,
            foreign=foreign,
        )

    def valid_count(self, label: str) -> int:
        return len(self.windows.get(label, []))


def _describe_meter(meter: EnergyMeter) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for attr in (
        "source",
        "power_field",
        "device_names",
        "driver_version",
        "notes",
        "max_power_w",
        "noise_frac",
        "secondary",
    ):
        value = getattr(meter, attr, None)
        if value not in (None, "", []):
            details[attr] = value
    zones = getattr(meter, "zones", None)
    if zones:
        details["zones"] = [f"{z.zone_id}={z.domain}" for z in zones]
    return details


def _flag_drift(session: _Session) -> None:
    every = [w for ws in session.windows.values() for w in ws]
    run_freq = run_median_freq([w.host_begin for w in every] + [w.host_end for w in every])
    ordered = sorted(every, key=lambda w: w.start_wall_s or 0.0)
    first_temp = next((w.host_begin.get("temperature_c") for w in ordered), None)
    for label, windows in session.windows.items():
        session.windows[label] = [
            replace(
                w,
                flags=(
                    *w.flags,
                    *window_drift(
                        w.host_begin,
                        w.host_end,
                        [r.details for r in w.readings],
                        run_freq_mhz=run_freq,
                        first_temp_c=first_temp,
                        freq_frac=session.settings.drift_freq_frac,
                        temp_c=session.settings.drift_temp_c,
                    ),
                ),
            )
            for w in windows
        ]


AUTO = "auto"


def measure_many(
    workloads: Mapping[str, Workload],
    meter: str | EnergyMeter = "auto",
    *,
    settings: ProtocolSettings | None = None,
    clock: Clock = SYSTEM_CLOCK,
    host_probe: HostProbe = telemetry.snapshot,
    on_event: Callable[[Event], None] = _noop,
    gpu: bool | None = None,
    meter_options: Mapping[str, Any] | None = None,
    usage_probe: UsageProbe | str | None = AUTO,
    journal: Journal | None = None,
    resume: JournalState | None = None,
    **setting_values: Any,
) -> dict[str, MeasureResult]:
    """Measure several workloads interleaved (rounds of A B C idle, shuffled) with one meter.

    ``workloads`` maps a label to ``workload(n)``. ``meter`` is a name (``auto``, ``rapl``,
    ``nvml``, ``estimate``, ``simulated``) or a meter object; ``gpu=True`` makes ``auto`` pick
    the GPU's meter (None: whether this process uses CUDA). Settings come as a
    :class:`ProtocolSettings` or as keywords (``windows=5, min_window_s=2.0, ...``).
    ``usage_probe``: what tells other processes' load during each window (``"auto"``: this
    machine's, ``harness.contamination``, on the system clock; None: not checked).
    ``journal``: every window is written to it as taken; ``resume``: a journal's state to go
    on from (its windows are kept, only the missing ones are measured). Returns one
    :class:`MeasureResult` per label.
    """
    if not workloads:
        raise UserError("nothing to measure: give at least one workload")
    if IDLE_LABEL in workloads:
        raise UserError(f"the label {IDLE_LABEL!r} is reserved for idle windows; rename it")
    if settings is not None and setting_values:
        raise UserError("give settings either as a ProtocolSettings or as keywords, not both")
    settings = settings or make_settings(**setting_values)
    _import_scipy_now()
    owns_meter = isinstance(meter, str)
    chosen, reason = choose_meter(meter, gpu=gpu, **dict(meter_options or {}))
    on_event(Event("meter", "", reason))
    # "auto" judges windows in real time only: a test's fake clock makes no real window
    probe = (
        (probe_for(chosen) if clock is SYSTEM_CLOCK else None)
        if usage_probe == AUTO
        else usage_probe
    )
    try:
        return _run(
            workloads,
            chosen,
            reason,
            settings,
            clock,
            host_probe,
            on_event,
            probe if not isinstance(probe, str) else None,
            journal,
            resume,
        )
    finally:
        if owns_meter:
            chosen.close()


def _import_scipy_now() -> None:
    """The t quantiles between windows and the trapezoid rule at a window's end come from
    scipy, which ``import joulebench`` leaves for later: importing it now (about a second of
    CPU) keeps that out of every window."""
    import importlib

    for module in ("scipy.stats", "scipy.integrate"):
        importlib.import_module(module)


def _start_session(
    workloads: Mapping[str, Workload],
    meter: EnergyMeter,
    settings: ProtocolSettings,
    min_window_s: float,
    journal: Journal | None,
    resume: JournalState | None,
) -> tuple[int, int | str]:
    """The run's seed and its RNG's seed: new, or the resumed journal's (refused when the
    journal was taken with other settings or another meter)."""
    if resume is None:
        seed = settings.seed if settings.seed is not None else secrets.randbits(32)
        rng_seed: int | str = seed
    else:
        first = resume.sessions[0] if resume.sessions else {}
        if first.get("settings") != settings.model_dump(mode="json"):
            raise UserError(
                f"run journal {resume.path} was taken with other protocol settings; resume it "
                "with the settings it began with, or measure again"
            )
        if first.get("meter") != meter.name:
            raise UserError(
                f"run journal {resume.path} was measured with meter {first.get('meter')!r}, "
                f"not {meter.name!r}: resume it with the same meter"
            )
        seed = int(first["seed"])
        rng_seed = f"{seed}/resumed-at-round-{resume.rounds}"
    if journal is not None:
        journal.append(
            {
                "kind": "session",
                "seed": seed,
                "settings": settings.model_dump(mode="json"),
                "meter": meter.name,
                "labels": list(workloads),
                "min_window_s": min_window_s,
                "resumed_windows": resume.window_count if resume else 0,
            }
        )
    return seed, rng_seed


def _run(
    workloads: Mapping[str, Workload],
    meter: EnergyMeter,
    reason: str,
    settings: ProtocolSettings,
    clock: Clock,
    host_probe: HostProbe,
    on_event: Callable[[Event], None],
    usage_probe: UsageProbe | None = None,
    journal: Journal | None = None,
    resume: JournalState | None = None,
) -> dict[str, MeasureResult]:
    min_window_s = settings.min_window_s or meter.default_min_window_s
    floor_s = getattr(meter, "min_allowed_window_s", 0.0)
    if min_window_s < floor_s:
        raise UserError(
            f"min_window_s={min_window_s} is under the {floor_s} s that meter {meter.name!r} "
            f"can resolve; use at least {floor_s} (default {meter.default_min_window_s})"
        )
    seed, rng_seed = _start_session(workloads, meter, settings, min_window_s, journal, resume)
    session = _Session(
        meter, settings, min_window_s, clock, host_probe, on_event, rng_seed, usage_probe, journal
    )
    round_index = 0
    if resume is not None:
        resumed = resume.only(workloads)
        session.windows = {label: list(ws) for label, ws in resumed.windows.items()}
        session.discarded = list(resumed.discarded)
        session.order = list(resumed.order)
        round_index = resumed.rounds
        on_event(
            Event(
                "resumed",
                "",
                f"{resumed.window_count} windows from {resume.path}; measuring the rest",
            )
        )
    calls: dict[str, int] = {}
    for label, workload in workloads.items():
        with timed_stage(on_event, "warm-up and calibration"):
            per_call_s = session.warm_up(label, workload)
            if resume is not None and label in resume.calls:
                calls[label] = resume.calls[label]  # the windows before were this size
            else:
                calls[label] = session.calibrate(label, workload, per_call_s)
                if journal is not None:
                    journal.calibrated(label, calls[label])

    def timed_calls(workload: Workload, n: int) -> tuple[int, WorkDone]:
        """Run n calls, then top up with more until the window lasts ``min_window_s``."""
        start_s = clock.monotonic()
        parts = [work_done(workload(n), n)]
        done, top_up = n, max(1, math.ceil(n * TOP_UP_FRACTION))
        while clock.monotonic() - start_s < min_window_s:
            parts.append(work_done(workload(top_up), top_up))
            done += top_up
        return done, WorkDone.combine(parts)

    def idle() -> tuple[int, WorkDone]:
        clock.sleep(min_window_s)
        return 0, WorkDone(0)

    def one_round(round_index: int, labels: list[str]) -> None:
        order = [*labels, *([IDLE_LABEL] if settings.idle else [])]
        session.rng.shuffle(order)
        session.order.append(tuple(order))
        if journal is not None:
            journal.round(round_index, order)
        for position, label in enumerate(order):
            if label == IDLE_LABEL:
                session.take_window(IDLE_LABEL, round_index, position, idle)
                continue
            workload, n = workloads[label], calls[label]
            session.take_window(
                label, round_index, position, lambda w=workload, n=n: timed_calls(w, n)
            )

    adaptive = settings.target_ci is not None
    first_stage = (
        stopping.pilot_size(settings.windows, settings.pilot_windows)
        if adaptive
        else settings.windows
    )
    start_s = clock.monotonic()
    every = [*workloads, *([IDLE_LABEL] if settings.idle else [])]
    planned: dict[str, int] = {}
    target_met: dict[str, bool] = {}
    interrupted = False
    windows_started_s = time.perf_counter()
    try:
        while any(session.valid_count(label) < first_stage for label in every):
            short = [lab for lab in workloads if session.valid_count(lab) < first_stage]
            one_round(round_index, short)
            round_index += 1
        if adaptive:
            assert settings.target_ci is not None
            planned = _plan(session, workloads, first_stage, settings.target_ci)
            goal = {label: min(n, settings.max_windows) for label, n in planned.items()}
            on_event(
                Event(
                    "planned",
                    "",
                    "Stein's rule plans "
                    + ", ".join(f"{label}: {n}" for label, n in planned.items())
                    + " windows",
                )
            )
            while True:
                short = [lab for lab in workloads if session.valid_count(lab) < goal[lab]]
                if not short or clock.monotonic() - start_s >= settings.max_time_s:
                    break
                one_round(round_index, short)
                round_index += 1
            target_met = {lab: session.valid_count(lab) >= planned[lab] for lab in workloads}
            missed = [lab for lab, met in target_met.items() if not met]
            on_event(
                Event(
                    "target",
                    "",
                    f"target ci95 met by every workload after {round_index} rounds"
                    if not missed
                    else f"target ci95 NOT met by {', '.join(missed)} after {round_index} "
                    "rounds (stopped at the cap)",
                )
            )
    except KeyboardInterrupt:
        # keep what was measured when every workload has an interval's worth of windows
        if any(session.valid_count(label) < 2 for label in every):
            raise
        interrupted = True
        on_event(Event("interrupted", "", f"Ctrl-C after {round_index} rounds: keeping them"))
    on_event(stage_event("energy windows", time.perf_counter() - windows_started_s))

    _flag_drift(session)
    threads = telemetry.thread_settings()
    idle_windows = session.windows.get(IDLE_LABEL, [])
    results = {}
    for label in workloads:
        windows = session.windows[label]
        rule = stopping.describe(
            rule=stopping.RULE_STEIN if adaptive else stopping.RULE_FIXED,
            windows=len(windows),
            pilot=first_stage if adaptive else None,
            target_rel=settings.target_ci,
            planned=planned.get(label),
            cap_windows=settings.max_windows if adaptive else None,
            max_time_s=settings.max_time_s if adaptive else None,
            reached=target_met.get(label) if adaptive else None,
        )
        results[label] = build_result(
            label=label,
            meter=meter,
            meter_reason=reason,
            meter_details=_describe_meter(meter),
            calls_per_window=calls[label],
            windows=windows,
            idle_windows=idle_windows,
            discarded=[d for d in session.discarded if d.label in (label, IDLE_LABEL)],
            settings=settings,
            min_window_s=min_window_s,
            threads=threads,
            target_met=target_met.get(label) if adaptive else None,
            interrupted=interrupted,
            stopping=rule,
            order=tuple(session.order),
            order_seed=seed,
        )
    return results


def _plan(
    session: _Session, workloads: Mapping[str, Workload], pilot: int, target_rel: float
) -> dict[str, int]:
    """Stein's planned number of windows for each workload, from its first ``pilot`` windows."""
    return {
        label: stopping.planned_windows(
            [w.energy_j / w.items for w in session.windows[label][:pilot]], target_rel
        )
        for label in workloads
    }


def measure(
    workload: Workload,
    meter: str | EnergyMeter = "auto",
    *,
    label: str = "workload",
    **kwargs: Any,
) -> MeasureResult:
    """Measure one workload: energy and time per item, gross and net, with 95% intervals.

    ``workload(n)`` must run ``n`` calls back to back (returning :class:`WorkDone` when a call
    runs more than one item). Other keywords are those of :func:`measure_many`
    (``min_window_s``, ``windows``, ``target_ci``, ``clock``, ...).
    """
    return measure_many({label: workload}, meter, **kwargs)[label]
