"""Reading run documents back as tidy pandas DataFrames (reports read only these)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from joulebench.batteries import Battery, inferences_per_charge
from joulebench.batteries import battery as battery_profile
from joulebench.devices.base import MEASURED_METHODS
from joulebench.errors import ResultsError
from joulebench.harness.journal import UNFINISHED
from joulebench.results.pytest_benchmark import from_pytest_benchmark, is_pytest_benchmark
from joulebench.results.schema import check_version, migrate

VARIANT_COLUMNS = (
    "macro_f1",
    "latency_p50_s",
    "latency_p95_s",
    "latency_p99_s",
    "throughput_per_s",
    "peak_rss_bytes",
    "gpu_peak_bytes",
    "model_size_bytes",
    "params",
    "threads",
)
FIGURES = (
    "energy_per_item_j",
    "net_energy_per_item_j",
    "duration_per_item_s",
    "power_w",
    "idle_power_w",
)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        # hidden files and folders hold work in progress (temporary files, unfinished
        # recordings, build caches), and so does "unfinished" (run journals, fleet records,
        # superseded partial documents): never results
        files = sorted(
            p
            for p in path.rglob("*.json")
            if not any(
                part.startswith(".") or part == UNFINISHED
                for part in p.relative_to(path).parent.parts
            )
            and not p.name.startswith(".")
        )
        if not files:
            raise ResultsError(f"no results (*.json) under {path}; run `joulebench measure` first")
        return files
    raise ResultsError(f"results path {path} does not exist; give a results file or folder")


def read_document(path: Path | str) -> dict[str, Any]:
    """Read and check one run document (a pytest-benchmark file with ``joules`` energy too)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultsError(f"cannot read results file {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(
            f"results file {path} is not valid JSON ({exc}); "
            "it is damaged or not a joulebench result"
        ) from None
    if not isinstance(document, dict):
        raise ResultsError(f"results file {path} is not a joulebench result (not a JSON object)")
    if is_pytest_benchmark(document):
        return migrate(from_pytest_benchmark(document, str(path)))
    check_version(document, str(path))
    return migrate(document)


def documents(path_or_dir: Path | str) -> list[tuple[Path, dict[str, Any]]]:
    """Every run document in a file or under a folder, checked."""
    return [(p, read_document(p)) for p in _files(Path(path_or_dir))]


def _figure(figures: dict[str, Any], name: str) -> tuple[float | None, float | None]:
    figure = figures.get(name)
    return (figure["mean"], figure["ci95"]) if figure else (None, None)


def _row(
    document: dict[str, Any], m: dict[str, Any], path: Path, battery: Battery
) -> dict[str, Any]:
    variant = m.get("variant") or {}
    batch_size = variant.get("batch_size", 1)
    row: dict[str, Any] = {
        "run_id": document["run_id"],
        "created_utc": document["created_utc"],
        "machine": document["machine_id"],
        "meter": m["meter"],
        "label": m["label"],
        "variant": variant.get("name", m["label"]),
        "method": variant.get("method"),
        "parent": variant.get("parent"),
        "backend": variant.get("backend"),
        "batch_size": batch_size,
        "energy_method": m["method"],
        "measured": m["method"] in MEASURED_METHODS,
        "scope": m["scope"],
        "manual_form": (m.get("meter_details") or {}).get("manual_form"),
        "confidence": (m.get("meter_details") or {}).get("confidence"),
        "calls_per_window": m["calls_per_window"],
        "windows": len(m["windows"]),
    }
    for name in FIGURES:
        row[name], row[f"{name}_ci95"] = _figure(m["figures"], name)
    row["net_error"] = m["figures"].get("net_error")
    # per inference = per item: each window divided by the examples it actually ran
    row["energy_j"], row["energy_j_ci95"] = row["energy_per_item_j"], row["energy_per_item_j_ci95"]
    row["net_energy_j"] = row["net_energy_per_item_j"]
    row["net_energy_j_ci95"] = row["net_energy_per_item_j_ci95"]
    row["energy_interval"] = (m["figures"]["energy_per_item_j"] or {}).get("interval", "student-t")
    systematic = m.get("systematic") or {}
    row["energy_j_systematic"] = systematic.get("energy_per_item_j")
    row["net_energy_j_systematic"] = systematic.get("net_energy_per_item_j")
    accuracy = systematic.get("accuracy") or {}
    row["meter_accuracy"] = accuracy.get("rel_frac")
    row["meter_accuracy_source"] = accuracy.get("source")
    row["stopping_rule"] = (m.get("stopping") or {}).get("rule", "fixed")
    latency = variant.get("latency") or {}
    row["latency_samples"] = latency.get("batch_samples")
    row["latency_per_item_p50_s"] = latency.get("per_item_p50_s")
    row["device"] = variant.get("device")
    accuracy = variant.get("accuracy") or {}
    row["accuracy"] = accuracy.get("value")
    row["accuracy_ci_low"] = accuracy.get("ci_low")
    row["accuracy_ci_high"] = accuracy.get("ci_high")
    row["accuracy_n"] = accuracy.get("n")
    outcomes = variant.get("outcomes") or {}  # which examples were right, for paired tests
    row["outcomes"] = outcomes.get("bits")
    row["test_set"] = outcomes.get("test_set")
    row["family"] = variant.get("family")
    row.update(_scores(variant))
    for key in VARIANT_COLUMNS:
        row[key] = variant.get(key)
    details = variant.get("details") or {}
    row["compressed_size_bytes"] = details.get("compressed_size_bytes")
    row["nonzero_params"] = details.get("nonzero_params")
    charges = inferences_per_charge(battery, row["energy_j"], row["energy_j_ci95"])
    row["battery"] = battery.name
    row["inferences_per_charge"] = charges.value
    row["inferences_per_charge_low"] = charges.low
    row["inferences_per_charge_high"] = charges.high
    row.update(_generation(variant.get("generation"), charges.value))
    row["flags"] = ",".join(f["code"] for f in m["flags"])
    row["flag_notes"] = " | ".join(f"{f['code']}: {f['message']}" for f in m["flags"])
    row["path"] = str(path)
    return row


GENERATION_TIMES = ("ttft_p50_s", "ttft_p95_s", "tpot_p50_s", "tpot_p95_s", "output_tokens_per_s")
GENERATION_ENERGY = (
    "decode_token_j",
    "prefill_token_j",
    "net_decode_token_j",
    "net_prefill_token_j",
)


def _generation(generation: dict[str, Any] | None, responses: float | None) -> dict[str, Any]:
    """A generation variant's per-token columns (None for other rows); a row's energy and
    charges are then per request (one response of ``new_tokens`` tokens)."""
    generation = generation or {}
    out: dict[str, Any] = {
        "prompt_tokens": generation.get("prompt_tokens"),
        "new_tokens": generation.get("new_tokens"),
    }
    for name in GENERATION_ENERGY:
        out[name], out[f"{name}_ci95"] = _figure(generation, name)
    for name in GENERATION_TIMES:
        out[name] = generation.get(name)
    new_tokens = out["new_tokens"]
    out["tokens_per_charge"] = (
        responses * new_tokens if responses is not None and new_tokens else None
    )
    return out


EXTRA = "metric:"
"""Column prefix of a task's metrics beyond its primary one (a generation task's own metric
beside perplexity): ``metric:<name>``, ``metric:<name>_low``, ``metric:<name>_high``."""
KNOWN_METRICS = ("accuracy", "top5_accuracy", "macro_f1")


def _scores(variant: dict[str, Any]) -> dict[str, Any]:
    """The primary metric as ``score`` columns (a classifier's is its accuracy), and top-5."""
    metrics = variant.get("metrics") or {}
    primary = metrics.get(variant.get("primary_metric") or "")
    accuracy = variant.get("accuracy")
    if primary is None and accuracy:  # written before metrics were recorded
        primary = {"name": "accuracy", "higher_is_better": True, **accuracy}
    out: dict[str, Any] = {
        "score": None,
        "score_low": None,
        "score_high": None,
        "score_name": None,
        "score_higher_is_better": None,
    }
    if primary is not None:
        value = primary["value"]
        out.update(
            score=value,
            score_low=value if primary.get("ci_low") is None else primary["ci_low"],
            score_high=value if primary.get("ci_high") is None else primary["ci_high"],
            score_name=primary["name"],
            score_higher_is_better=bool(primary.get("higher_is_better", True)),
        )
    for name, metric in metrics.items():  # a task's further metrics, each with its interval
        if (primary is not None and name == primary.get("name")) or name in KNOWN_METRICS:
            continue
        value = metric.get("value")
        out[f"{EXTRA}{name}"] = value
        out[f"{EXTRA}{name}_low"] = metric.get("ci_low")
        out[f"{EXTRA}{name}_high"] = metric.get("ci_high")
    top5 = metrics.get("top5_accuracy") or {}
    out["top5_accuracy"] = top5.get("value")
    out["top5_accuracy_ci_low"] = top5.get("ci_low")
    out["top5_accuracy_ci_high"] = top5.get("ci_high")
    return out


def load(path_or_dir: Path | str, battery: str | Battery = "phone") -> pd.DataFrame:
    """One row per (run, machine, variant or workload), every figure in SI units.

    Columns include run_id, machine, meter, variant, method, backend, batch_size, accuracy
    (with accuracy_ci_low/high, Wilson 95%), energy_j (gross per inference) and energy_j_ci95
    (95% half-width), net_energy_j, energy_method (counter, integrated, manual, estimated,
    simulated; ``manual_form`` and ``confidence`` say which manual form: counter/high,
    log/medium, average/low), score (the primary metric: accuracy for a classifier, else the
    task's own, with score_low/high, score_name and score_higher_is_better), top5_accuracy,
    family (groups different models), latency_p50/p95/p99_s (per batch), throughput_per_s,
    peak_rss_bytes, model_size_bytes, params and inferences_per_charge (gross energy,
    ``battery``'s profile).
    Figures a plain workload does not have (accuracy, latency, ...) are None.
    """
    return frame_of(documents(path_or_dir), battery)


def frame_of(
    runs: Sequence[tuple[Path, dict[str, Any]]], battery: str | Battery = "phone"
) -> pd.DataFrame:
    """:func:`load`'s frame of run documents already read (``(path, document)`` pairs)."""
    profile = battery if isinstance(battery, Battery) else battery_profile(battery)
    rows = [
        _row(document, m, path, profile)
        for path, document in runs
        for m in document["measurements"]
    ]
    return pd.DataFrame(rows)


def load_windows(path_or_dir: Path | str) -> pd.DataFrame:
    """One row per window (the run's idle windows too, ``label == "idle"``), with raw energy."""
    rows: list[dict[str, Any]] = []
    for _, document in documents(path_or_dir):
        method = document["measurements"][0]["method"] if document["measurements"] else None
        windows = [w for m in document["measurements"] for w in m["windows"]]
        for w in windows + document.get("idle_windows", []):
            rows.append(
                {
                    "run_id": document["run_id"],
                    "label": w["label"],
                    "method": method,
                    "round_index": w["round_index"],
                    "calls": w["calls"],
                    "items": w["items"],
                    "position": w.get("position"),
                    "energy_j": w["energy_j"],
                    "duration_s": w["duration_s"],
                    "meter_duration_s": w["meter_duration_s"],
                    "start_wall_s": w["start_wall_s"],
                    "end_wall_s": w["end_wall_s"],
                    "flags": ",".join(w["flags"]),
                }
            )
    return pd.DataFrame(rows)
