"""Writing run documents: atomically, never over an earlier one, under results/<machine-id>/."""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from joulebench import __version__
from joulebench.errors import ResultsError
from joulebench.files import give_user_permissions
from joulebench.harness.machine import fingerprint, machine_id
from joulebench.harness.result import MeasureResult
from joulebench.provenance import provenance
from joulebench.results.schema import (
    SCHEMA_VERSION,
    idle_windows_to_list,
    measurement_to_dict,
    variant_to_dict,
)

DEFAULT_DIR = Path("results")


def ensure_writable(folder: Path | str) -> Path:
    """Create ``folder`` if needed and check a file can be written in it (before measuring)."""
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".joulebench-probe-"):
            pass
    except OSError as exc:
        raise ResultsError(
            f"results folder {path} is not writable ({exc.strerror or exc}); "
            "choose another with --out or fix its permissions"
        ) from None
    return path


def _as_list(
    results: MeasureResult | Mapping[str, MeasureResult] | Iterable[MeasureResult],
) -> list[MeasureResult]:
    if isinstance(results, MeasureResult):
        return [results]
    if isinstance(results, Mapping):
        return list(results.values())
    return list(results)


def build_document(
    results: MeasureResult | Mapping[str, MeasureResult] | Iterable[MeasureResult],
    *,
    extra: dict[str, Any] | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """The run document for these results (same run, same meter, same settings).

    ``device`` names another device the readings were taken on (a phone measured with a USB
    meter): it becomes the document's machine id, and this machine is recorded as where the
    readings were entered, not where they were measured.
    """
    items = _as_list(results)
    if not items:
        raise ResultsError("nothing to save: no measurement results")
    gpu_names = [n for r in items for n in r.meter_details.get("device_names", [])]
    driver = next(
        (r.meter_details["driver_version"] for r in items if r.meter_details.get("driver_version")),
        None,
    )
    machine = fingerprint(sorted(set(gpu_names)), driver)
    identity = machine_id(machine)
    if device is not None:
        machine = {"device": device, "external": True, "entered_on": machine}
        identity = device_id(device)
    created = datetime.now(timezone.utc)
    return {
        "schema_version": SCHEMA_VERSION,
        "joulebench_version": __version__,
        "run_id": f"{created:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}",
        "created_utc": created.isoformat(),
        "machine_id": identity,
        "machine": machine,
        "settings": items[0].settings.model_dump(),
        "extra": extra or {},
        "provenance": provenance(),
        "order": [list(r) for r in items[0].order],
        "order_seed": items[0].order_seed,
        "measurements": [measurement_to_dict(r) for r in items],
        "idle_windows": idle_windows_to_list(items[0]),
    }


def device_id(device: str) -> str:
    """A device name as a folder-safe machine id (``"Pixel 7"`` -> ``"Pixel-7"``)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", device.strip()).strip("-.")
    if not slug:
        raise ResultsError(f"device name {device!r} has no letters or digits; name the device")
    return slug[:64]


def build_variant_document(
    run: Any, *, task: dict[str, Any] | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The run document of a ``VariantRun``: every measured variant, and every failure."""
    document = build_document([r.energy for r in run.results], extra=extra)
    for measurement, result in zip(document["measurements"], run.results, strict=True):
        measurement["variant"] = variant_to_dict(result)
    document["failures"] = [{"name": f.name, "error": f.error} for f in run.failures]
    document["task"] = task or {}
    return document


def save_variants(
    run: Any,
    out: Path | str = DEFAULT_DIR,
    *,
    task: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Save a ``VariantRun`` (measured variants and failures) as one run document."""
    return write_document(build_variant_document(run, task=task, extra=extra), out)


def write_document(document: dict[str, Any], out: Path | str = DEFAULT_DIR) -> Path:
    """Write ``document`` to ``out/<machine-id>/<run-id>_<labels>.json`` atomically.

    Written to a temporary file in the same folder, then linked into place, which fails rather
    than replace a file of the same name: an earlier result is never overwritten.
    """
    folder = ensure_writable(Path(out) / document["machine_id"])
    labels = "+".join(m["label"] for m in document["measurements"])
    slug = re.sub(r"[^A-Za-z0-9._+-]+", "-", labels)[:60].strip("-") or "run"
    try:
        text = json.dumps(document, indent=1, allow_nan=False, default=str)
    except ValueError as exc:
        raise ResultsError(f"refusing to write a result with a non-finite number: {exc}") from None
    fd, temp_name = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        give_user_permissions(temp)
        for attempt in range(1000):
            suffix = "" if attempt == 0 else f"-{attempt + 1}"
            final = folder / f"{document['run_id']}_{slug}{suffix}.json"
            try:
                os.link(temp, final)
                return final
            except FileExistsError:
                continue
        raise ResultsError(f"could not find a free file name in {folder}")
    except OSError as exc:
        raise ResultsError(
            f"could not write results to {folder} ({exc.strerror or exc}); "
            "choose another folder with --out"
        ) from None
    finally:
        temp.unlink(missing_ok=True)


def save(
    results: MeasureResult | Mapping[str, MeasureResult] | Iterable[MeasureResult],
    out: Path | str = DEFAULT_DIR,
    *,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Save one run's results as a JSON document; return its path."""
    return write_document(build_document(results, extra=extra), out)
