"""The Task interface: what a variant run needs from a task, whatever its data.

Text classification is the first task; image and user-defined tasks (issue 9) implement the
same two methods.
"""

from __future__ import annotations

from typing import Any, Protocol

from joulebench.tasks.data import TextDataset


class HeldOutSplit(Protocol):
    """Training examples and the held-out examples every variant is scored on."""

    train: TextDataset
    test: TextDataset


class Task(Protocol):
    """A data source with a fixed held-out split and the metrics a variant is scored by."""

    name: str

    def split(self) -> HeldOutSplit:
        """The same held-out split every time (seeded)."""
        ...

    def score(self, predictions: list[int], test: TextDataset) -> dict[str, Any]:
        """Scores of ``predictions`` on ``test``: at least ``accuracy`` (an Accuracy)."""
        ...
