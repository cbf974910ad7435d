"""Clocks, injectable so that the harness and the meters can be tested with a fake one.

The bottom layer: devices/ and harness/ both import it; it imports nothing of joulebench.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Where time comes from. ``monotonic`` for durations, ``wall`` for aligning with other logs."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (arbitrary origin)."""
        ...

    def wall(self) -> float:
        """Seconds since the Unix epoch (UTC)."""
        ...

    def sleep(self, duration_s: float) -> None:
        """Wait ``duration_s`` seconds."""
        ...


class SystemClock:
    """The real clock: ``time.perf_counter``, ``time.time`` and ``time.sleep``."""

    def monotonic(self) -> float:
        """Seconds from ``time.perf_counter`` (monotonic, highest resolution)."""
        return time.perf_counter()

    def wall(self) -> float:
        """Seconds since the Unix epoch from ``time.time``."""
        return time.time()

    def sleep(self, duration_s: float) -> None:
        """Sleep for ``duration_s`` seconds (no-op when not positive)."""
        if duration_s > 0:
            time.sleep(duration_s)


SYSTEM_CLOCK = SystemClock()
