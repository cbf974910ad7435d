"""The results document: versioned JSON, one per run. Versions 1 and 2 are pinned by tests/data.

Layout of version 2 (all numbers in SI units: J, W, s, bytes)::

    {"schema_version": 2, "joulebench_version": ..., "run_id": ..., "created_utc": ...,
     "machine_id": ..., "machine": {...}, "settings": {...},
     "order": [["b", "idle", "a"], ...] (every round's window order), "order_seed": ...,
     "measurements": [{"label", "meter", "method", "method_label", "scope", "meter_reason",
                       "meter_details", "calls_per_window", "min_window_s", "threads",
                       "target_met", "stopping": {"rule", ...},
                       "figures": {"energy_per_item_j": {mean, ci95, interval, ...},
                       "net_energy_per_item_j": {...} | null, "net_error", ...},
                       "systematic": {"accuracy": {rel_frac, source, offset_w},
                                      "energy_per_item_j": ±J | null, ...},
                       "flags": [{code, message}],
                       "windows": [{..., "calls", "items", "position", "latencies_s",
                                    "run", ...}],
                       "discarded": [...],
                       "variant": {...} (model runs only: accuracy, metrics, family, latency,
                                    memory, device, inference_includes, max_length,
                                    "outcomes": {"kind": "correct", "n", "test_set", "bits"}
                                    | {"kind": "bootstrap", "test_set", "n", "seed",
                                       "resamples", "scipy", "observed", "values"} | null,
                                    "build": {method, recipe, libraries, seed, data, ...}
                                    | null (the variant folder's build record),
                                    ...)}],
     "idle_windows": [...], "failures": [{"name", "error"}],
     "task": {..., "test", "test_set_sha256"}}

Added within version 2 (optional; a reader treats a missing one as not recorded): each
window's ``run`` (``--repeat``; 0 when absent), a variant's ``outcomes``, ``max_length`` and
``build`` (how it was made, for ``report --format methods``) and ``generation`` (a generation
variant's per-token figures, TTFT/TPOT and its prefill measurement with its windows; per item
is then per request), the task's ``test_set_sha256``,
the document's ``provenance`` (the measured project's commit, commit time, branch, dirty state,
its source and the CI run: ``joulebench.provenance``).

Version 1 divided a variant's window by calls x the nominal batch size; it is read through
:func:`migrate` (one step to version 2, its figures flagged ``items-not-counted``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from joulebench.devices.base import METHOD_LABELS
from joulebench.errors import SchemaVersionError
from joulebench.harness.result import MeasureResult, Window
from joulebench.variants.recipe import read_record

SCHEMA_VERSION = 2
KNOWN_VERSIONS = (1, 2)
PER_ITEM_FIGURES = {
    "energy_per_call_j": "energy_per_item_j",
    "net_energy_per_call_j": "net_energy_per_item_j",
    "duration_per_call_s": "duration_per_item_s",
}
"""Version 1's per-call figure names and their per-item names in version 2."""


def _window(window: Window) -> dict[str, Any]:
    data = asdict(window)
    data["readings"] = [r.to_dict() for r in window.readings]
    data["flags"] = list(window.flags)
    data["latencies_s"] = [round(t, 9) for t in window.latencies_s]
    data["latency_items"] = list(window.latency_items)
    return data


def _systematic(result: MeasureResult) -> dict[str, Any]:
    accuracy = result.accuracy
    return {
        "accuracy": accuracy.to_dict() if accuracy is not None else None,
        "energy_per_item_j": result.systematic_energy_per_item_j,
        "net_energy_per_item_j": result.systematic_net_energy_per_item_j,
    }


def measurement_to_dict(result: MeasureResult) -> dict[str, Any]:
    """One measurement as plain JSON."""
    summary = result.net_energy_per_item_j
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
        "stopping": result.stopping,
        "order_seed": result.order_seed,
        "figures": {
            "energy_per_item_j": result.energy_per_item_j.to_dict(),
            "net_energy_per_item_j": summary.to_dict() if summary else None,
            "net_error": result.net_error,
            "duration_per_item_s": result.duration_per_item_s.to_dict(),
            "power_w": result.power_w.to_dict(),
            "idle_power_w": result.idle_power_w.to_dict() if result.idle_power_w else None,
        },
        "systematic": _systematic(result),
        "flags": [{"code": f.code, "message": f.message} for f in result.flags],
        "windows": [_window(w) for w in result.windows],
        "discarded": [asdict(d) for d in result.discarded],
    }


def _outcomes(scores: Any) -> dict[str, Any] | None:
    """Per-example outcomes (a classifier) or the metric's bootstrap replicates (a task of the
    user's own), for paired comparisons; None when there are neither."""
    if scores.outcomes is not None:
        return scores.outcomes.to_dict()
    if scores.replicates is not None:
        return scores.replicates.to_dict()
    return None


def variant_to_dict(result: Any) -> dict[str, Any]:
    """A variant's own figures (``harness.variant_run.VariantResult``) as plain JSON.

    Energy here is per inference (one example), as in the measurement beside it.
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
        "build": read_record(spec.path) or None if spec.path is not None else None,
        "batch_size": result.batch_size,
        "threads": result.threads,
        "accuracy": result.accuracy.to_dict() if result.accuracy else None,
        "macro_f1": result.macro_f1,
        "metrics": {name: score.to_dict() for name, score in result.scores.metrics.items()},
        "outcomes": _outcomes(result.scores),
        "primary_metric": result.scores.primary.name,
        "latency_p50_s": result.latency_p50_s,
        "latency_p95_s": result.latency_p95_s,
        "latency_p99_s": result.latency_p99_s,
        "latency": result.latency.to_dict(),
        "device": result.device,
        "inference_includes": list(result.inference_includes),
        "max_length": result.max_length,
        "throughput_per_s": result.throughput_per_s,
        "peak_rss_bytes": result.peak_rss_bytes,
        "gpu_peak_bytes": result.gpu_peak_bytes,
        "model_size_bytes": result.model_size_bytes,
        "params": result.params,
        "load_s": result.load_s,
        "details": result.details,
        "energy_per_inference_j": result.energy_per_inference_j.to_dict(),
        "net_energy_per_inference_j": net.to_dict() if net else None,
        "generation": _generation(result),
    }


def _generation(result: Any) -> dict[str, Any] | None:
    """A generation variant's per-token figures and its prefill windows (None otherwise)."""
    tokens = getattr(result, "tokens", None)
    prefill = getattr(result, "prefill", None)
    if tokens is None or prefill is None:
        return None
    return {**tokens.to_dict(), "prefill": measurement_to_dict(prefill)}


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


def migrate(document: dict[str, Any]) -> dict[str, Any]:
    """A checked document in the current version (version 1 is moved up one step).

    Version 1 recorded calls, not items: a variant's per-inference figure was its per-call
    figure divided by the nominal batch size, so a short last batch counted as a full one.
    The migrated document keeps those figures, renamed per item, with ``items`` estimated as
    calls x batch size and a flag ``items-not-counted`` saying so; nothing is recomputed that
    the file does not hold.
    """
    if document.get("schema_version") != 1:
        return document
    migrated = {**document, "schema_version": SCHEMA_VERSION, "migrated_from": 1}
    migrated["measurements"] = [_migrate_measurement(m) for m in document["measurements"]]
    migrated["idle_windows"] = [
        {**w, "items": 0, "items_estimated": True} for w in document.get("idle_windows", [])
    ]
    return migrated


def _scaled(summary: dict[str, Any] | None, factor: float) -> dict[str, Any] | None:
    if summary is None:
        return None
    keys = ("mean", "ci95", "std", "median", "min", "max")
    return {**summary, **{k: summary[k] * factor for k in keys if k in summary}}


def _migrate_measurement(measurement: dict[str, Any]) -> dict[str, Any]:
    batch = int((measurement.get("variant") or {}).get("batch_size") or 1)
    figures = dict(measurement["figures"])
    for old, new in PER_ITEM_FIGURES.items():
        if old in figures:
            figures[new] = _scaled(figures.pop(old), 1.0 / batch)
    flags = list(measurement.get("flags", []))
    if batch > 1:
        flags.append(
            {
                "code": "items-not-counted",
                "message": "written by an older joulebench (results schema 1), which divided "
                f"each window by calls x {batch}: a short last batch counted as full, so energy "
                "per inference may read low; rerun for exact per-inference figures",
            }
        )
    return {
        **measurement,
        "figures": figures,
        "flags": flags,
        "stopping": measurement.get("stopping") or {"rule": "fixed"},
        "windows": [
            {**w, "items": w["calls"] * batch, "items_estimated": True}
            for w in measurement["windows"]
        ],
    }
