"""joulebench: what each compressed variant of a model costs in energy and buys in accuracy.

``run(variants, task)`` measures model variants (folders, or any Python callable) on a task
and writes the report; ``measure(workload)`` gives energy and time per item with 95%
intervals, gross and net, from a device meter (RAPL, NVML), or an estimate/simulation that
says so everywhere.
"""

from __future__ import annotations

__version__ = "0.1.0"

from joulebench import tasks
from joulebench.api import RunOutcome, run
from joulebench.errors import (
    DeviceError,
    JoulebenchError,
    MeasurementError,
    MeterUnavailableError,
    ResultsError,
    UserError,
    WorkloadError,
)
from joulebench.harness import (
    MeasureResult,
    ProtocolSettings,
    Summary,
    WorkDone,
    measure,
    measure_many,
)
from joulebench.variants.user import variant

__all__ = [
    "DeviceError",
    "JoulebenchError",
    "MeasureResult",
    "MeasurementError",
    "MeterUnavailableError",
    "ProtocolSettings",
    "ResultsError",
    "RunOutcome",
    "Summary",
    "UserError",
    "WorkDone",
    "WorkloadError",
    "__version__",
    "measure",
    "measure_many",
    "run",
    "tasks",
    "variant",
]
