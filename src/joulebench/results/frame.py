"""Reading run documents back as tidy pandas DataFrames (reports read only these)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from joulebench.errors import ResultsError
from joulebench.results.schema import check_version

FIGURES = (
    "energy_per_call_j",
    "net_energy_per_call_j",
    "duration_per_call_s",
    "power_w",
    "idle_power_w",
)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if not p.name.startswith("."))
        if not files:
            raise ResultsError(f"no results (*.json) under {path}; run `joulebench measure` first")
        return files
    raise ResultsError(f"results path {path} does not exist; give a results file or folder")


def read_document(path: Path | str) -> dict[str, Any]:
    """Read and check one run document."""
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
    check_version(document, str(path))
    return document


def documents(path_or_dir: Path | str) -> list[tuple[Path, dict[str, Any]]]:
    """Every run document in a file or under a folder, checked."""
    return [(p, read_document(p)) for p in _files(Path(path_or_dir))]


def load(path_or_dir: Path | str) -> pd.DataFrame:
    """One row per measurement: figures (mean and ``_ci95`` half-width), method, scope, flags."""
    rows: list[dict[str, Any]] = []
    for path, document in documents(path_or_dir):
        for m in document["measurements"]:
            row: dict[str, Any] = {
                "run_id": document["run_id"],
                "created_utc": document["created_utc"],
                "machine_id": document["machine_id"],
                "label": m["label"],
                "meter": m["meter"],
                "method": m["method"],
                "measured": m["method"] in ("counter", "integrated", "manual"),
                "scope": m["scope"],
                "calls_per_window": m["calls_per_window"],
                "windows": len(m["windows"]),
            }
            for name in FIGURES:
                figure = m["figures"].get(name)
                row[name] = figure["mean"] if figure else None
                row[f"{name}_ci95"] = figure["ci95"] if figure else None
            row["net_error"] = m["figures"].get("net_error")
            row["flags"] = ",".join(f["code"] for f in m["flags"])
            row["path"] = str(path)
            rows.append(row)
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
                    "energy_j": w["energy_j"],
                    "duration_s": w["duration_s"],
                    "meter_duration_s": w["meter_duration_s"],
                    "start_wall_s": w["start_wall_s"],
                    "end_wall_s": w["end_wall_s"],
                    "flags": ",".join(w["flags"]),
                }
            )
    return pd.DataFrame(rows)
