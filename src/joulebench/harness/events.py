"""Progress events: what a run reports as it goes, for a progress display or a log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    """Progress of a measurement, for a CLI or a log: ``kind`` is a short word."""

    kind: str
    label: str
    message: str
