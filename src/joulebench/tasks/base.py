"""The Task interface: what a variant run needs from a task, whatever its data.

Classification (texts, images, arrays) and the user's own generic task implement it.
"""

from __future__ import annotations

from typing import Any, Protocol

from joulebench.tasks.metrics import Scores


class HeldOutSplit(Protocol):
    """Training examples and the held-out examples every variant is scored on (each has
    ``inputs`` and ``labels``)."""

    train: Any
    test: Any


class Task(Protocol):
    """A data source with a fixed held-out split and the metrics a variant is scored by."""

    name: str

    def split(self) -> HeldOutSplit:
        """The same held-out split every time (seeded)."""
        ...

    def score(self, predictions: Any, test: Any) -> Scores:
        """Scores of ``predictions`` (one per example of ``test``), the primary one first."""
        ...

    def describe(self) -> dict[str, Any]:
        """The task as a results document records it (name, kind, data, sizes)."""
        ...
