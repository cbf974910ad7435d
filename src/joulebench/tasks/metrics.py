"""Scores computed from a variant's own predictions, each with its uncertainty."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from joulebench.errors import UserError
from joulebench.statistics.bootstrap import Replicates
from joulebench.tasks.outcomes import Outcomes


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Accuracy with its 95% Wilson score interval (``ci_low`` .. ``ci_high``)."""

    value: float
    ci_low: float
    ci_high: float
    correct: int
    n: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)

    def as_score(self, name: str) -> Score:
        """This accuracy as a named :class:`Score`."""
        return Score(name, self.value, self.ci_low, self.ci_high, True, self.n)


@dataclass(frozen=True, slots=True)
class Score:
    """One metric of a variant: its value, 95% interval (None when it has none), direction."""

    name: str
    value: float
    ci_low: float | None
    ci_high: float | None
    higher_is_better: bool
    n: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


@dataclass(frozen=True)
class Scores:
    """Every metric of a variant, the primary one first; a classifier's accuracy and macro-F1,
    and which examples it got right (``outcomes``) or its metric's bootstrap replicates
    (``replicates``, a task of the user's own), for paired comparisons."""

    metrics: dict[str, Score]
    accuracy: Accuracy | None = None
    macro_f1: float | None = None
    outcomes: Outcomes | None = None
    replicates: Replicates | None = None

    @property
    def primary(self) -> Score:
        """The metric a plot's y axis shows by default (accuracy for a classifier)."""
        return next(iter(self.metrics.values()))


def _check(predictions: Sequence[int], labels: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(predictions)
    true = np.asarray(labels)
    if pred.shape != true.shape:
        raise UserError(
            f"{pred.size} predictions for {true.size} labels; the variant must return one "
            "prediction per example"
        )
    if true.size == 0:
        raise UserError("no examples to score; the test split is empty")
    return pred, true


def accuracy(predictions: Sequence[int], labels: Sequence[int]) -> Accuracy:
    """Fraction correct, with the 95% Wilson interval (scipy's ``binomtest``)."""
    pred, true = _check(predictions, labels)
    correct = int((pred == true).sum())
    interval = _wilson(correct, int(true.size))
    return Accuracy(
        correct / true.size, float(interval.low), float(interval.high), correct, int(true.size)
    )


def top_k_accuracy(scores: np.ndarray, labels: Sequence[int], k: int) -> Accuracy:
    """Fraction whose label is among the ``k`` highest scores, with its Wilson interval."""
    true = np.asarray(labels)
    top = np.argsort(-np.asarray(scores), axis=1, kind="stable")[:, :k]
    correct = int((top == true[:, None]).any(axis=1).sum())
    interval = _wilson(correct, int(true.size))
    return Accuracy(
        correct / true.size, float(interval.low), float(interval.high), correct, int(true.size)
    )


def macro_f1(predictions: Sequence[int], labels: Sequence[int], n_labels: int) -> float:
    """Unweighted mean of the per-class F1 scores over all ``n_labels`` classes."""
    pred, true = _check(predictions, labels)
    return float(
        _f1_score(true, pred, labels=list(range(n_labels)), average="macro", zero_division=0)
    )


def _wilson(correct: int, total: int) -> Any:
    """scipy's Wilson interval of ``correct`` of ``total`` (scipy.stats imported when first
    needed: it costs a second at start-up)."""
    from scipy.stats import binomtest

    return binomtest(correct, total).proportion_ci(0.95, method="wilson")


def _f1_score(*args: Any, **kwargs: Any) -> Any:
    """sklearn's ``f1_score``, imported when first needed (sklearn is slow to import)."""
    from sklearn.metrics import f1_score

    return f1_score(*args, **kwargs)
