"""Fakes at the hardware boundary, public so users can test their pipelines without hardware.

* :class:`FakeClock`, :class:`BusyTrace`, :class:`FakePowercap`, :class:`FakeNvml`: see
  :mod:`joulebench.testing.fakes`.
* :func:`write_meter_log`: a simulated USB meter's CSV log of a known power trace, see
  :mod:`joulebench.testing.meterlogs`.
* :func:`busy_elsewhere`: another program's busy loop, for the contamination check, see
  :mod:`joulebench.testing.load`.
* Simulated held-out documents and full/prefill windows with a known truth, for a generation
  run's intervals: :mod:`joulebench.testing.generation`.
"""

from __future__ import annotations

from joulebench.testing.fakes import (
    BusyTrace,
    FakeClock,
    FakeGpu,
    FakeNvml,
    FakePowercap,
    FakeZone,
    intel_layout,
)
from joulebench.testing.load import busy_elsewhere
from joulebench.testing.meterlogs import write_meter_log

__all__ = [
    "BusyTrace",
    "FakeClock",
    "FakeGpu",
    "FakeNvml",
    "FakePowercap",
    "FakeZone",
    "busy_elsewhere",
    "intel_layout",
    "write_meter_log",
]
