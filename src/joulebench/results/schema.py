"""The results document: versioned JSON, one per run. Version 1 is pinned by tests/data.

Layout (all numbers in SI units: J, W, s, bytes)::

    {"schema_version": 1, "joulebench_version": ..., "run_id": ..., "created_utc": ...,
     "machine_id": ..., "machine": {...}, "settings": {...},
     "measurements": [{"label", "meter", "method", "method_label", "scope", "meter_reason",
                       "meter_details", "calls_per_window", "min_window_s", "threads",
                       "target_met", "figures": {"energy_per_call_j": {mean, ci95, ...},
                       "net_energy_per_call_j": {...} | null, "net_error", ...},
                       "flags": [{code, message}], "windows": [...], "discarded": [...],
                       "variant": {...} (model runs only: accuracy, metrics, family, latency,
                                    memory, ...)}],
     "idle_windows": [...], "failures": [{"name", "error"}], "task": {...}}
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from joulebench.devices.base import METHOD_LABELS
from joulebench.errors import SchemaVersionError
from joulebench.harness.result import MeasureResult, Window

SCHEMA_VERSION = 1
KNOWN_VERSIONS = (1,)


def _window(window: Window) -> dict[str, Any]:
    data = asdict(window)
    data["readings"] = [r.to_dict() for r in window.readings]
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
        "interrupted": result.interrupted,
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


def variant_to_dict(result: Any) -> dict[str, Any]:
    """A variant's own figures (``harness.variant_run.VariantResult``) as plain JSON.

    Energy here is per inference (one example); the measurement beside it is per batch.
    """
    spec = result.spec
    net = result.net_energy_per_inference_j
    return {
        "name": spec.name,
        "method": spec.method,
        "parent": spec.parent,
        "backend": spec.backend,
        "family": spec.family,
        "path": None if spec.path is None else str(spec.path),
        "function": spec.function,
        "recipe": spec.recipe,
        "batch_size": result.batch_size,
        "threads": result.threads,
        "accuracy": result.accuracy.to_dict() if result.accuracy else None,
        "macro_f1": result.macro_f1,
        "metrics": {name: score.to_dict() for name, score in result.scores.metrics.items()},
        "primary_metric": result.scores.primary.name,
        "latency_p50_s": result.latency_p50_s,
        "latency_p95_s": result.latency_p95_s,
        "latency_p99_s": result.latency_p99_s,
        "throughput_per_s": result.throughput_per_s,
        "peak_rss_bytes": result.peak_rss_bytes,
        "gpu_peak_bytes": result.gpu_peak_bytes,
        "model_size_bytes": result.model_size_bytes,
        "params": result.params,
        "load_s": result.load_s,
        "details": result.details,
        "energy_per_inference_j": result.energy_per_inference_j.to_dict(),
        "net_energy_per_inference_j": net.to_dict() if net else None,
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
