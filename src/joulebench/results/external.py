"""Run documents for readings taken on another device, joined to accuracy measured elsewhere.

A course team measures a phone with a USB meter; the phone's accuracy is the model's accuracy,
measured by ``joulebench run`` on a laptop. The phone's document takes each variant's
accuracy, size and parameter count from the latest run that measured it (and says which), and
leaves the laptop's latency and memory out: those belong to the laptop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from joulebench.errors import ResultsError
from joulebench.harness.result import MeasureResult
from joulebench.results.frame import documents
from joulebench.results.store import build_document

DEVICE_INDEPENDENT = (
    "accuracy",
    "macro_f1",
    "metrics",
    "primary_metric",
    "model_size_bytes",
    "params",
)
"""Figures of a variant that do not depend on the device it runs on."""
IDENTITY = ("method", "family", "parent", "backend", "path", "function", "recipe")


def accuracy_sources(path: Path | str) -> dict[str, dict[str, Any]]:
    """Each variant's block from the latest run under ``path`` that measured it, with its run."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for file, document in documents(path):
        for measurement in document["measurements"]:
            variant = measurement.get("variant")
            if not variant or not (variant.get("accuracy") or variant.get("metrics")):
                continue
            created = document["created_utc"]
            if variant["name"] not in found or found[variant["name"]][0] < created:
                found[variant["name"]] = (
                    created,
                    {
                        **variant,
                        "_from": {
                            "run_id": document["run_id"],
                            "machine_id": document["machine_id"],
                            "file": str(file),
                            "task": document.get("task") or {},
                        },
                    },
                )
    return {name: block for name, (_, block) in found.items()}


def external_variant(result: MeasureResult, source: dict[str, Any] | None) -> dict[str, Any]:
    """The variant block of a variant measured on another device (energy per inference)."""
    block: dict[str, Any] = {
        "name": result.label,
        "batch_size": 1,
        "energy_per_inference_j": result.energy_per_item_j.to_dict(),
        "net_energy_per_inference_j": (
            result.net_energy_per_item_j.to_dict() if result.net_energy_per_item_j else None
        ),
        "details": {},
    }
    for key in (*IDENTITY, *DEVICE_INDEPENDENT):
        block[key] = source.get(key) if source else None
    if source:
        origin = source["_from"]
        block["details"]["accuracy_from"] = {k: origin[k] for k in ("run_id", "machine_id", "file")}
    else:
        block["details"]["accuracy_from"] = None
    return block


def build_external_document(
    results: list[MeasureResult],
    *,
    device: str,
    accuracy_from: Path | str | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The run document of readings taken on ``device``; also the variants with no accuracy."""
    sources = accuracy_sources(accuracy_from) if accuracy_from is not None else {}
    document = build_document(results, extra=extra, device=device)
    missing: list[str] = []
    task: dict[str, Any] = {}
    for measurement, result in zip(document["measurements"], results, strict=True):
        source = sources.get(result.label)
        if source is None:
            missing.append(result.label)
        else:
            task = task or source["_from"]["task"]
        measurement["variant"] = external_variant(result, source)
    if accuracy_from is not None and len(missing) == len(results):
        known = ", ".join(sorted(sources)) or "none"
        raise ResultsError(
            f"no variant in {accuracy_from} matches the readings ({', '.join(missing)}); "
            f"it has: {known}. Name the rows as the variants were named in that run"
        )
    document["failures"] = []
    document["task"] = task
    return document, missing
