"""An interactive recording: a person at the bench reads a meter, one window at a time.

The session prompts at each window ("start the workload … type the counter reading"), rings
the terminal bell when the window's time is up, asks for the end reading (or the average watts
shown) and the inferences run, and shows the running energy per inference with its interval.
Typing ``r`` at any prompt redoes the window. Every finished window is saved at once to a
progress file, so an interrupted recording resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from joulebench.clock import SYSTEM_CLOCK, Clock
from joulebench.devices.base import EnergyReading
from joulebench.devices.manual import (
    IDLE,
    ChargingWindowError,
    ManualWindow,
    average_reading,
    counter_reading,
    shortest_window_s,
)
from joulebench.devices.units import is_energy_unit, to_joules
from joulebench.errors import InvalidReadingError, ResultsError, UserError
from joulebench.harness.stats import summarize

PROGRESS_VERSION = 1
REDO = "r"


class RedoWindow(Exception):
    """The person typed ``r``: this window starts again."""


@dataclass(frozen=True)
class RecordingPlan:
    """What to record: the variant on the device, with which meter form and how many windows."""

    device: str
    variant: str
    form: Literal["counter", "average"] = "counter"
    unit: str = "mWh"
    voltage_v: float | None = None
    counts: Literal["up", "down"] = "up"
    scope: str = "usb"
    resolution: float | None = None
    windows: int = 5
    idle_windows: int = 2
    window_s: float = 60.0
    inferences: int | None = None

    def __post_init__(self) -> None:
        if self.form == "counter" and not is_energy_unit(self.unit):
            to_joules(1.0, self.unit)  # raises the one-line unknown-unit error
        if self.windows < 2:
            raise UserError(f"--windows {self.windows}: an interval needs at least 2 (5 is better)")
        if self.idle_windows not in (0,) and self.idle_windows < 2:
            raise UserError("--idle-windows must be 0 (no net figure) or at least 2")
        if not math.isfinite(self.window_s) or self.window_s <= 0:
            raise UserError(f"--window-s {self.window_s}: give a positive number of seconds")
        if self.inferences is not None and self.inferences <= 0:
            raise UserError(f"--inferences {self.inferences}: give a positive count")


@dataclass
class Progress:
    """The windows recorded so far; saved after each one."""

    plan: RecordingPlan
    windows: list[dict[str, Any]] = field(default_factory=list)

    def items(self) -> list[ManualWindow]:
        """The recorded windows as :class:`ManualWindow` objects."""
        out = []
        for w in self.windows:
            reading = EnergyReading(**w["reading"]) if w["reading"] else None
            out.append(
                ManualWindow(
                    w["label"],
                    w["inferences"],
                    reading,
                    w["void_reason"],
                    w["start_wall_s"],
                    w["end_wall_s"],
                )
            )
        return out

    def count(self, label: str) -> int:
        """Usable windows recorded for ``label`` (a void window is taken again)."""
        return sum(1 for w in self.windows if w["label"] == label and w["reading"])


def progress_path(out: Path | str, device: str, variant: str) -> Path:
    """Where a recording of ``variant`` on ``device`` keeps its progress."""
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in f"{device}--{variant}")
    return Path(out) / ".recording" / f"{safe}.json"


def save_progress(progress: Progress, path: Path) -> None:
    """Write the progress file atomically (a crash leaves the previous one whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "progress_version": PROGRESS_VERSION,
        "plan": asdict(progress.plan),
        "windows": progress.windows,
    }
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1, default=str)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).replace(path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise ResultsError(f"cannot save the recording's progress to {path}: {exc}") from None


def load_progress(path: Path) -> Progress:
    """Read a progress file written by :func:`save_progress`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("progress_version") != PROGRESS_VERSION:
            raise ValueError("unknown progress_version")
        return Progress(RecordingPlan(**document["plan"]), list(document["windows"]))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ResultsError(
            f"recording progress file {path} cannot be read ({exc}); move it away and start again"
        ) from None


@dataclass
class Session:
    """Drives one recording through ``ask`` (a prompt -> the person's answer) and ``say``."""

    progress: Progress
    path: Path
    ask: Callable[[str], str]
    say: Callable[[str], None]
    clock: Clock = SYSTEM_CLOCK
    bell: str = "\a"

    @property
    def plan(self) -> RecordingPlan:
        """The recording's plan."""
        return self.progress.plan

    def _number(self, prompt: str, *, default: float | None = None) -> float:
        while True:
            answer = self.ask(prompt).strip()
            if answer.lower() == REDO:
                raise RedoWindow
            if not answer and default is not None:
                return default
            try:
                value = float(answer.replace(",", "."))
            except ValueError:
                self.say(f"  {answer!r} is not a number; type digits (or r to redo the window)")
                continue
            if not math.isfinite(value) or value < 0:
                self.say("  give a finite number, zero or more (or r to redo the window)")
                continue
            return value

    def advice(self) -> str:
        """The shortest window this meter allows, in words."""
        plan = self.plan
        if plan.form == "average":
            return (
                f"average watts: windows of at least {shortest_window_s('average'):.0f} s "
                "keep your timing error under 1%"
            )
        if plan.resolution:
            resolution_j = to_joules(plan.resolution, plan.unit, plan.voltage_v)
            return (
                f"a counter with {plan.resolution:g} {plan.unit} steps needs "
                f"{resolution_j / 0.01:.0f} J per window for 1% (e.g. "
                f"{shortest_window_s('counter', power_w=2.0, resolution_j=resolution_j):.0f} s "
                "at 2 W); windows below that are flagged"
            )
        return "give --resolution (the counter's smallest step) to have short windows flagged"

    def _window(self, label: str, number: int, total: int) -> dict[str, Any]:
        plan = self.plan
        what = "leave the device idle" if label == IDLE else f"start {label} on {plan.device}"
        self.say(f"\nWindow {number}/{total} ({label}): {what}.")
        start_value: float | None = None
        if plan.form == "counter":
            start_value = self._number(
                f"  type the meter's counter reading ({plan.unit}) as you start, then Enter: "
            )
        else:
            self.ask("  start the workload and the meter's averaging now, then press Enter: ")
        start_s, start_wall_s = self.clock.monotonic(), self.clock.wall()
        self.say(f"  measuring for {plan.window_s:.0f} s ...")
        self.clock.sleep(plan.window_s)
        end_s, end_wall_s = self.clock.monotonic(), self.clock.wall()
        self.say(f"{self.bell}  *** time is up: stop the workload and read the meter now ***")
        duration_s = end_s - start_s
        try:
            if plan.form == "counter":
                assert start_value is not None
                end_value = self._number(f"  counter reading now ({plan.unit}): ")
                reading = counter_reading(
                    start_value, end_value, plan.unit, duration_s,
                    voltage_v=plan.voltage_v, counts=plan.counts,
                    resolution=plan.resolution, domain=plan.scope, scope=plan.scope,
                )  # fmt: skip
            else:
                power_w = self._number("  average watts the meter showed over the window: ")
                reading = average_reading(power_w, duration_s, domain=plan.scope, scope=plan.scope)
            void = None
        except ChargingWindowError as exc:
            self.say(f"  void: {exc}")
            reading, void = None, str(exc)
        except InvalidReadingError as exc:
            self.say(f"  {exc}")
            raise RedoWindow from None
        inferences = 0
        if label != IDLE:
            default = plan.inferences
            hint = f" [{default}]" if default else ""
            count = self._number(
                f"  inferences run in this window{hint}: ",
                default=float(default) if default else None,
            )
            if count <= 0 or count != int(count):
                self.say("  the count must be a positive whole number")
                raise RedoWindow
            inferences = int(count)
        return {
            "label": label,
            "inferences": inferences,
            "reading": reading.to_dict() if reading else None,
            "void_reason": void,
            "start_wall_s": start_wall_s,
            "end_wall_s": end_wall_s,
        }

    def _running(self) -> None:
        per = [
            w["reading"]["energy_j"] / w["inferences"]
            for w in self.progress.windows
            if w["label"] == self.plan.variant and w["reading"]
        ]
        if len(per) >= 2:
            summary = summarize(per, "energy per inference")
            self.say(
                f"  so far: {summary.mean * 1000:.4g} ± {summary.ci95 * 1000:.2g} mJ/inference "
                f"(95%, {summary.n} windows)"
            )
        elif per:
            self.say(f"  so far: {per[0] * 1000:.4g} mJ/inference (1 window; no interval yet)")

    def run(self) -> Progress:
        """Record the windows still missing, saving after each; return the whole progress."""
        plan = self.plan
        self.say(f"Recording {plan.variant} on {plan.device}. {self.advice()}.")
        for label, total in ((plan.variant, plan.windows), (IDLE, plan.idle_windows)):
            while self.progress.count(label) < total:
                number = self.progress.count(label) + 1
                try:
                    window = self._window(label, number, total)
                except RedoWindow:
                    self.say("  redoing this window")
                    continue
                self.progress.windows.append(window)
                save_progress(self.progress, self.path)
                self._running()
        return self.progress
