"""A simulated history: one run per commit with known steps in energy or in idle power.

Each run is :func:`joulebench.testing.documents.simulated_runs` (energy per inference the
truth x a run offset, ``run_noise``, x window noise) with the commit it measured, its time and
idle windows; ``energy_steps`` multiply the truth from a commit on, ``idle_steps`` the idle
power (a machine change). Used by the tests and ``bench/bench_history.py``; every document is
``simulated`` and says so.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from joulebench.testing.documents import simulated_runs

START = datetime(2026, 9, 1, tzinfo=timezone.utc)
IDLE_W = 5.0


def commit_of(index: int) -> str:
    """A made-up 40-character commit id for commit ``index``."""
    return hashlib.sha1(f"commit {index}".encode()).hexdigest()


def history_documents(
    rng: np.random.Generator,
    *,
    commits: int = 30,
    run_noise: float = 0.03,
    window_noise: float = 0.01,
    energy_steps: dict[int, float] | None = None,
    idle_steps: dict[int, float] | None = None,
    machine_id: str = "simulated-machine",
    first: int = 0,
) -> list[dict[str, Any]]:
    """``commits`` run documents, oldest first; a step at ``i`` changes commit ``i`` on."""
    documents = []
    energy_factor, idle_factor = 1.0, 1.0
    for index in range(first, first + commits):
        energy_factor *= 1 + (energy_steps or {}).get(index, 0.0)
        idle_factor *= 1 + (idle_steps or {}).get(index, 0.0)
        document = simulated_runs(rng, runs=1, windows=8, energy_factor=energy_factor,
                                  run_offset=run_noise, window_noise=window_noise)  # fmt: skip
        when = START + timedelta(days=index)
        document.update(
            run_id=f"{machine_id}-run-{index:03d}",
            created_utc=(when + timedelta(hours=1)).isoformat(),
            machine_id=machine_id,
            provenance={"commit": commit_of(index), "commit_time_utc": when.isoformat(),
                        "branch": "main", "dirty": False, "source": "simulated", "ci": None},
            idle_windows=[
                {"label": "idle", "round_index": k, "calls": 0, "items": 0, "duration_s": 1.0,
                 "energy_j": IDLE_W * idle_factor * (1 + 0.005 * rng.standard_normal()),
                 "start_wall_s": None, "end_wall_s": None, "run": 0}
                for k in range(8)
            ],
            extra={"simulated": "history fixture (joulebench.testing.history)"},
        )  # fmt: skip
        documents.append(document)
    return documents


def write_history(folder: Path, documents: list[dict[str, Any]]) -> Path:
    """Write each document as ``folder/<run_id>.json``; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for document in documents:
        (folder / f"{document['run_id']}.json").write_text(json.dumps(document), encoding="utf-8")
    return folder
