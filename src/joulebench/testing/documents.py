"""Simulated results documents with a known truth, for studies of ``compare`` (bench/) and tests.

Each run's energy and time per inference are the truth times a per-run offset (normal, what a
new process and another moment bring) times per-window noise (normal), laid out as
``joulebench run --repeat K`` writes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from joulebench.tasks.outcomes import Outcomes

ENERGY_J = 0.010
TIME_S = 0.002
ITEMS = 32


def simulated_runs(
    rng: np.random.Generator,
    *,
    runs: int,
    windows: int = 8,
    energy_factor: float = 1.0,
    run_offset: float = 0.03,
    window_noise: float = 0.02,
    outcomes: Outcomes | None = None,
) -> dict[str, Any]:
    """A document of one variant (``model``) measured in ``runs`` runs of ``windows`` windows,
    energy per inference ``ENERGY_J x energy_factor`` on average; accuracy from ``outcomes``
    (every variant right on the same examples when None)."""
    if outcomes is None:
        outcomes = Outcomes(np.arange(300) % 10 != 0, "ab" * 32)
    rows = []
    for run in range(runs):
        energy_run = ENERGY_J * energy_factor * (1 + rng.normal(0, run_offset))
        time_run = TIME_S * (1 + rng.normal(0, run_offset))
        for index in range(windows):
            energy = energy_run * (1 + rng.normal(0, window_noise))
            duration = time_run * (1 + rng.normal(0, window_noise))
            rows.append({"label": "model", "round_index": run * windows + index, "calls": 1,
                         "items": ITEMS, "energy_j": energy * ITEMS,
                         "duration_s": duration * ITEMS, "run": run})  # fmt: skip
    correct = int(outcomes.correct.sum())
    return {
        "schema_version": 2,
        "run_id": "simulated",
        "created_utc": "2026-12-02T00:00:00+00:00",
        "machine_id": "simulated-machine",
        "task": {"test": outcomes.n, "test_set_sha256": outcomes.test_set},
        "measurements": [
            {
                "label": "model",
                "meter": "simulated",
                "method": "simulated",
                "flags": [],
                "windows": rows,
                "variant": {
                    "name": "model",
                    "batch_size": ITEMS,
                    "threads": 2,
                    "device": "cpu",
                    "max_length": 128,
                    "accuracy": {
                        "value": correct / outcomes.n,
                        "correct": correct,
                        "n": outcomes.n,
                    },
                    "outcomes": outcomes.to_dict(),
                },
            }
        ],
    }
