"""Where the time went: the wall time of each stage of a run (fine-tune, each build, loading
and scoring each variant, warm-up and calibration, energy windows, the report).

Stages are reported through the ``on_event`` channel every part of a run already has (an
event of kind ``stage`` whose message is the seconds), so no part needs another parameter;
:class:`StageTimes` wraps a run's ``on_event``, passes every event on, and keeps the stages.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from joulebench.harness.events import Event

STAGE = "stage"


def stage_event(name: str, seconds: float) -> Event:
    """The event saying stage ``name`` took ``seconds`` of wall time."""
    return Event(STAGE, name, f"{seconds:.3f}")


@contextmanager
def timed_stage(on_event: Callable[[Event], None], name: str) -> Iterator[None]:
    """Time the block as stage ``name`` (reported even when it raises)."""
    start_s = time.perf_counter()
    try:
        yield
    finally:
        on_event(stage_event(name, time.perf_counter() - start_s))


class StageTimes:
    """An ``on_event`` callback: passes every event to ``forward`` and keeps each stage's wall
    time (a stage reported several times, as warm-up once per variant, is summed)."""

    def __init__(self, forward: Callable[[Event], None] = lambda event: None) -> None:
        self.forward = forward
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.started = time.perf_counter()

    def __call__(self, event: Event) -> None:
        if event.kind == STAGE:
            self.seconds[event.label] = self.seconds.get(event.label, 0.0) + float(event.message)
            self.counts[event.label] = self.counts.get(event.label, 0) + 1
        self.forward(event)

    def rows(self) -> list[dict[str, Any]]:
        """Each stage with its seconds, times reported and share of the wall time so far; then
        what no stage covers ("other") and the total."""
        total_s = time.perf_counter() - self.started
        rows = [
            {"stage": name, "seconds": round(s, 3), "times": self.counts[name],
             "share": s / total_s if total_s else 0.0}
            for name, s in self.seconds.items()
        ]  # fmt: skip
        other_s = max(0.0, total_s - sum(self.seconds.values()))
        rows.append({"stage": "other (start-up, meters, progress)", "seconds": round(other_s, 3),
                     "times": 1, "share": other_s / total_s if total_s else 0.0})  # fmt: skip
        rows.append({"stage": "total", "seconds": round(total_s, 3), "times": 1, "share": 1.0})
        return rows
