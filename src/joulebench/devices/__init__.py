"""Energy meters: RAPL, NVML, a CPU-time estimate and a simulated trace, behind one protocol.

The lowest layer of joulebench: it imports nothing above it, and touches no hardware on import.
"""

from __future__ import annotations

from joulebench.devices.base import (
    MEASURED_METHODS,
    METHOD_LABELS,
    Availability,
    EnergyMeter,
    EnergyReading,
    Method,
    primary_reading,
)
from joulebench.devices.estimate import EstimateMeter
from joulebench.devices.nvml import NvmlMeter
from joulebench.devices.rapl import RaplMeter
from joulebench.devices.registry import METERS, MeterStatus, choose_meter, make_meter, probe_all
from joulebench.devices.simulated import SimulatedMeter

__all__ = [
    "MEASURED_METHODS",
    "METERS",
    "METHOD_LABELS",
    "Availability",
    "EnergyMeter",
    "EnergyReading",
    "EstimateMeter",
    "MeterStatus",
    "Method",
    "NvmlMeter",
    "RaplMeter",
    "SimulatedMeter",
    "choose_meter",
    "make_meter",
    "primary_reading",
    "probe_all",
]
