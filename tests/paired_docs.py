"""Results documents with per-example outcomes, made by hand for comparison and report tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np

from joulebench.results.schema import migrate
from joulebench.tasks.metrics import accuracy
from joulebench.tasks.outcomes import Outcomes

VARIANTS_V1 = Path(__file__).parent / "data" / "variants-v1.json"
TEST_SET = "ab" * 32


def variant_document() -> dict[str, Any]:
    """The reference two-variant run (base, int8), moved to the current schema."""
    return migrate(json.loads(VARIANTS_V1.read_text()))


def set_outcomes(
    document: dict[str, Any], correct: dict[str, np.ndarray], test_set: str = TEST_SET
) -> dict[str, Any]:
    """A copy whose variants got exactly ``correct[label]`` right (accuracy recomputed)."""
    changed = copy.deepcopy(document)
    for m in changed["measurements"]:
        right = np.asarray(correct[m["label"]], dtype=bool)
        labels = [1] * right.size
        acc = accuracy([int(r) for r in right], labels)
        m["variant"]["accuracy"] = acc.to_dict()
        m["variant"]["outcomes"] = Outcomes(right, test_set).to_dict()
    sizes = {len(c) for c in correct.values()}
    changed["task"] = {**changed.get("task", {}), "test": sizes.pop(), "test_set_sha256": test_set}
    return changed


def flip(correct: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """``correct`` with ``count`` right answers turned wrong (chosen at random, seeded)."""
    out = np.array(correct, dtype=bool)
    right = np.flatnonzero(out)
    out[np.random.default_rng(seed).choice(right, count, replace=False)] = False
    return out


def write(folder: Path, name: str, document: dict[str, Any]) -> str:
    """Write ``document`` as JSON; return its path as a string."""
    path = folder / name
    path.write_text(json.dumps(document))
    return str(path)
