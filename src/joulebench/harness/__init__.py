"""The run loop: windows, warm-up, interleaving, idle power, statistics."""

from __future__ import annotations

from joulebench.harness.result import Discarded, Flag, MeasureResult, Window, WorkDone
from joulebench.harness.runner import Event, measure, measure_many
from joulebench.harness.settings import ProtocolSettings, make_settings
from joulebench.harness.stats import Summary, summarize

__all__ = [
    "Discarded",
    "Event",
    "Flag",
    "MeasureResult",
    "ProtocolSettings",
    "Summary",
    "Window",
    "WorkDone",
    "make_settings",
    "measure",
    "measure_many",
    "summarize",
]
