"""Text classification: a data source, a fixed held-out split, accuracy and macro-F1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sklearn.model_selection import train_test_split

from joulebench.errors import UserError
from joulebench.tasks.data import TextDataset
from joulebench.tasks.metrics import accuracy, macro_f1


@dataclass(frozen=True)
class Split:
    """The training and held-out examples of a task."""

    train: TextDataset
    test: TextDataset


@dataclass(frozen=True)
class TextClassification:
    """Classify texts into ``data.label_names``; scored on a seeded, stratified held-out split.

    ``test_fraction`` of the data is held out (at most ``max_test`` examples of it are
    scored, and at most ``max_train`` kept for training), the same examples for every variant.
    """

    data: TextDataset
    test_fraction: float = 0.25
    max_test: int | None = None
    max_train: int | None = None
    seed: int = 0
    name: str = "text-classification"

    def split(self) -> Split:
        """The held-out split (deterministic for a given seed)."""
        if not 0 < self.test_fraction < 1:
            raise UserError(f"test_fraction must be between 0 and 1, got {self.test_fraction}")
        indices = list(range(len(self.data)))
        try:
            train_idx, test_idx = train_test_split(
                indices,
                test_size=self.test_fraction,
                random_state=self.seed,
                stratify=list(self.data.labels),
            )
        except ValueError as exc:
            raise UserError(f"{self.data.source}: cannot split the data ({exc})") from None
        # train_test_split returns shuffled indices: cut before sorting, so a capped split
        # keeps every class in proportion rather than the first classes of a sorted source
        train_idx = sorted(train_idx[: self.max_train] if self.max_train else train_idx)
        test_idx = sorted(test_idx[: self.max_test] if self.max_test else test_idx)
        return Split(
            self.data.subset(train_idx, f"{self.data.source} (train)"),
            self.data.subset(test_idx, f"{self.data.source} (test)"),
        )

    def score(self, predictions: list[int], test: TextDataset) -> dict[str, Any]:
        """Accuracy (with its Wilson interval) and macro-F1 of ``predictions`` on ``test``."""
        n_labels = len(self.data.label_names)
        bad = [p for p in predictions if not isinstance(p, int) or not 0 <= p < n_labels]
        if bad:
            raise UserError(
                f"prediction {bad[0]!r} is not a label index in 0..{n_labels - 1}; "
                "the model's labels do not match the data's"
            )
        acc = accuracy(predictions, list(test.labels))
        return {"accuracy": acc, "macro_f1": macro_f1(predictions, list(test.labels), n_labels)}
