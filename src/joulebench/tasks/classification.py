"""Classification of any inputs (texts, images, arrays): a fixed held-out split, accuracy with
its interval, top-5 where the model gives scores, and macro-F1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from joulebench.errors import UserError
from joulebench.tasks.metrics import Scores, accuracy, macro_f1, top_k_accuracy
from joulebench.tasks.outcomes import Outcomes, hash_test_set

TOP_K = 5


@dataclass(frozen=True)
class Split:
    """The training and held-out examples of a task."""

    train: Any
    test: Any


def labels_from(predictions: Any, n_labels: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Predicted label indices, and the scores they came from (None when given labels).

    A variant returns label indices, shape ``(n,)``, or scores, shape ``(n, n_labels)``
    (logits or probabilities: the highest wins).
    """
    try:
        array = np.asarray(predictions)
    except (TypeError, ValueError):
        array = np.asarray(predictions, dtype=object)
    if array.ndim == 2 and array.shape[1] == n_labels and np.issubdtype(array.dtype, np.number):
        return array.argmax(axis=1), array
    if array.ndim == 1 and np.issubdtype(array.dtype, np.integer):
        bad = array[(array < 0) | (array >= n_labels)]
        if bad.size:
            raise UserError(
                f"prediction {int(bad[0])} is not a label index in 0..{n_labels - 1}; "
                "the model's labels do not match the data's"
            )
        return array, None
    if array.ndim == 1 and array.dtype == object:
        bad_items = [
            p for p in array if not isinstance(p, (int, np.integer)) or not 0 <= p < n_labels
        ]
        if bad_items:
            raise UserError(
                f"prediction {bad_items[0]!r} is not a label index in 0..{n_labels - 1}; "
                "the model's labels do not match the data's"
            )
        return array.astype(int), None
    first = array.flat[0].item() if array.size and hasattr(array.flat[0], "item") else None
    what = (
        f"predictions like {first!r} ({type(first).__name__})"
        if array.ndim == 1 and array.size
        else f"predictions of shape {array.shape}"
    )
    raise UserError(
        f"{what} for {n_labels} labels; return label indices 0..{n_labels - 1}, shape (n,), "
        f"or scores, shape (n, {n_labels})"
    )


@dataclass(frozen=True)
class Classification:
    """Classify ``data``'s inputs into ``data.label_names``, scored on a seeded, stratified
    held-out split.

    ``test_fraction`` of the data is held out (at most ``max_test`` examples of it are scored,
    and at most ``max_train`` kept for training), the same examples for every variant;
    ``test_fraction=1.0`` scores every example (the data is already a test set).
    """

    data: Any
    """A ``TextDataset`` or ``ArrayDataset`` (anything with inputs, labels, label_names)."""
    test_fraction: float = 0.25
    max_test: int | None = None
    max_train: int | None = None
    seed: int = 0
    name: str = "classification"

    def split(self) -> Split:
        """The held-out split (deterministic for a given seed)."""
        if not 0 < self.test_fraction <= 1:
            raise UserError(f"test_fraction must be in (0, 1], got {self.test_fraction}")
        indices = list(range(len(self.data)))
        if self.test_fraction == 1:
            rng = np.random.default_rng(self.seed)
            test_idx = sorted(rng.permutation(indices)[: self.max_test].tolist())
            return Split(self.data.subset([], f"{self.data.source} (train: none)"),
                         self.data.subset(test_idx, f"{self.data.source} (test)"))  # fmt: skip
        from sklearn.model_selection import train_test_split  # here: sklearn is slow to import

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

    def score(self, predictions: Any, test: Any) -> Scores:
        """Accuracy (Wilson interval), top-5 (from scores, with more than 5 labels), macro-F1,
        and which examples were right (with the test set's hash, for paired comparisons)."""
        n_labels = len(self.data.label_names)
        if len(predictions) != len(test):
            raise UserError(
                f"{len(predictions)} predictions for {len(test)} examples; the variant must "
                "return one prediction per example"
            )
        predicted, scores = labels_from(predictions, n_labels)
        truth = list(test.labels)
        acc = accuracy(predicted.tolist(), truth)
        metrics = {"accuracy": acc.as_score("accuracy")}
        if scores is not None and n_labels > TOP_K:
            metrics["top5_accuracy"] = top_k_accuracy(scores, truth, TOP_K).as_score(
                "top5_accuracy"
            )
        outcomes = Outcomes(
            np.asarray(predicted) == np.asarray(truth), hash_test_set(test.inputs, truth)
        )
        return Scores(
            metrics,
            accuracy=acc,
            macro_f1=macro_f1(predicted.tolist(), truth, n_labels),
            outcomes=outcomes,
        )

    def describe(self) -> dict[str, Any]:
        """The task as recorded in a results document."""
        split = self.split()
        return {
            "name": self.name,
            "kind": "classification",
            "data": self.data.source,
            "train": len(split.train),
            "test": len(split.test),
            "labels": list(self.data.label_names),
            "test_set_sha256": hash_test_set(split.test.inputs, list(split.test.labels)),
        }
