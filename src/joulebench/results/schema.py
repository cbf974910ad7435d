"""The results document: versioned JSON, one per run. Version 1 is pinned by tests/data.

Layout (all numbers in SI units: J, W, s, bytes)::

    {"schema_version": 1, "joulebench_version": ..., "run_id": ..., "created_utc": ...,
     "machine_id": ..., "machine": {...}, "settings": {...},
     "measurements": [{"label", "meter", "method", "method_label", "scope", "meter_reason",
                       "meter_details", "calls_per_window", "min_window_s", "threads",
                       "target_met", "figures": {"energy_per_call_j": {mean, ci95, ...},
                       "net_energy_per_call_j": {...} | null, "net_error", ...},
                       "flags": [{code, message}], "windows": [...], "discarded": [...]}],
     "idle_windows": [...]}
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from joulebench.devices.base import METHOD_LABELS, EnergyReading
from joulebench.errors import SchemaVersionError
from joulebench.harness.result import MeasureResult, Window

SCHEMA_VERSION = 1
KNOWN_VERSIONS = (1,)


def _reading(reading: EnergyReading) -> dict[str, Any]:
    return {
        "domain": reading.domain,
        "energy_j": reading.energy_j,
        "duration_s": reading.duration_s,
        "method": reading.method,
        "scope": reading.scope,
        "details": dict(reading.details),
    }


def _window(window: Window) -> dict[str, Any]:
    data = asdict(window)
    data["readings"] = [_reading(r) for r in window.readings]
    data["flags"] = list(window.flags)
    return data


def measurement_to_dict(result: MeasureResult) -> dict[str, Any]:
    """One measurement as plain JSON."""
    summary = result.net_energy_per_call_j
    return {
        "label": result.label,
        "meter": result.meter,
        "method": result.method,
        "method_label": METHOD_LABELS.get(result.method, result.method),
        "scope": result.scope,
        "meter_reason": result.meter_reason,
        "meter_details": result.meter_details,
        "calls_per_window": result.calls_per_window,
        "min_window_s": result.min_window_s,
        "threads": result.threads,
        "target_met": result.target_met,
        "figures": {
            "energy_per_call_j": result.energy_per_call_j.to_dict(),
            "net_energy_per_call_j": summary.to_dict() if summary else None,
            "net_error": result.net_error,
            "duration_per_call_s": result.duration_per_call_s.to_dict(),
            "power_w": result.power_w.to_dict(),
            "idle_power_w": result.idle_power_w.to_dict() if result.idle_power_w else None,
        },
        "flags": [{"code": f.code, "message": f.message} for f in result.flags],
        "windows": [_window(w) for w in result.windows],
        "discarded": [asdict(d) for d in result.discarded],
    }


def idle_windows_to_list(result: MeasureResult) -> list[dict[str, Any]]:
    """The run's idle windows (shared by every measurement of the run), as plain JSON."""
    return [_window(w) for w in result.idle_windows]


def check_version(document: dict[str, Any], source: str) -> int:
    """Return the document's schema version, refusing one this joulebench does not know."""
    version = document.get("schema_version")
    if version not in KNOWN_VERSIONS:
        newer = isinstance(version, int) and version > SCHEMA_VERSION
        fix = (
            "upgrade joulebench (`pip install -U joulebench`)"
            if newer
            else "it was not written by joulebench, or is damaged"
        )
        raise SchemaVersionError(
            f"{source}: unknown results schema_version {version!r} (this joulebench reads "
            f"{', '.join(map(str, KNOWN_VERSIONS))}); {fix}"
        )
    return int(version)
