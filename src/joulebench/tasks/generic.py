"""A task of the user's own: inputs, labels of any kind, and a metric that scores predictions.

For detectors, regressors, anything whose score joulebench cannot compute itself: the metric is
any callable ``metric(predictions, labels) -> float`` (mAP from the user's own evaluator, say),
with its direction declared. Its 95% interval is a percentile bootstrap over examples (scipy),
unless ``bootstrap=0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from joulebench.errors import UserError
from joulebench.tasks.arrays import check_one_label_each, pick
from joulebench.tasks.classification import Split
from joulebench.tasks.metrics import Score, Scores

Metric = Callable[[Sequence[Any], Sequence[Any]], float]


@dataclass(frozen=True, eq=False)
class GenericDataset:
    """Inputs (an array, first axis = example, or a list) with one label of any kind each."""

    inputs: Any
    labels: tuple[Any, ...]
    source: str

    def __post_init__(self) -> None:
        check_one_label_each(self.inputs, self.labels, self.source)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: Sequence[int], source: str | None = None) -> GenericDataset:
        """The examples at ``indices``."""
        return GenericDataset(*pick(self.inputs, self.labels, indices), source or self.source)


def metric_name_of(metric: Metric) -> str:
    """A metric's name for tables: its ``__name__`` (a lambda is called "metric")."""
    name = getattr(metric, "__name__", None) or type(metric).__name__
    return "metric" if name == "<lambda>" else name


def _value(metric: Metric, name: str, predictions: Sequence[Any], labels: Sequence[Any]) -> float:
    try:
        value = metric(predictions, labels)
    except Exception as exc:
        raise UserError(
            f"metric {name!r} raised {type(exc).__name__}: {exc}; fix the metric or the "
            "predictions it is given"
        ) from None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(
            f"metric {name!r} returned {type(value).__name__} {value!r}, not a number; "
            "return one float"
        ) from None
    if not math.isfinite(number):
        raise UserError(
            f"metric {name!r} returned {number}; a metric must return a finite number "
            "(check for empty classes or a division by zero)"
        )
    return number


@dataclass(frozen=True, eq=False)
class GenericTask:
    """The user's inputs, labels and metric; ``test_fraction=1.0`` scores every example."""

    data: GenericDataset
    metric: Metric
    higher_is_better: bool = True
    metric_name: str | None = None
    test_fraction: float = 1.0
    max_test: int | None = None
    seed: int = 0
    bootstrap: int = 200
    name: str = "custom"

    @property
    def score_name(self) -> str:
        """The metric's name in tables and on plot axes."""
        return self.metric_name or metric_name_of(self.metric)

    def split(self) -> Split:
        """A seeded random split (not stratified: labels may be anything)."""
        if not 0 < self.test_fraction <= 1:
            raise UserError(f"test_fraction must be in (0, 1], got {self.test_fraction}")
        order = np.random.default_rng(self.seed).permutation(len(self.data)).tolist()
        n_test = max(1, round(len(order) * self.test_fraction))
        test_idx = sorted(order[:n_test][: self.max_test])
        train_idx = sorted(order[n_test:])
        return Split(
            self.data.subset(train_idx, f"{self.data.source} (train)"),
            self.data.subset(test_idx, f"{self.data.source} (test)"),
        )

    def score(self, predictions: Any, test: GenericDataset) -> Scores:
        """The metric over every example, with a percentile-bootstrap 95% interval."""
        if len(predictions) != len(test):
            raise UserError(
                f"{len(predictions)} predictions for {len(test)} examples; the variant must "
                "return one prediction per example"
            )
        name = self.score_name
        labels = list(test.labels)
        items = list(predictions)
        value = _value(self.metric, name, items, labels)
        low = high = None
        if self.bootstrap and len(items) > 1:
            low, high = self._interval(name, items, labels)
        return Scores({name: Score(name, value, low, high, self.higher_is_better, len(items))})

    def _interval(self, name: str, items: list[Any], labels: list[Any]) -> tuple[float, float]:
        from scipy.stats import bootstrap

        def statistic(index: np.ndarray) -> float:
            picked = index.astype(int)
            return _value(
                self.metric, name, [items[i] for i in picked], [labels[i] for i in picked]
            )

        result = bootstrap(
            (np.arange(len(items)),),
            statistic,
            n_resamples=self.bootstrap,
            vectorized=False,
            method="percentile",
            random_state=np.random.default_rng(self.seed),
        )
        return float(result.confidence_interval.low), float(result.confidence_interval.high)

    def describe(self) -> dict[str, Any]:
        """The task as recorded in a results document."""
        split = self.split()
        return {
            "name": self.name,
            "kind": "custom",
            "data": self.data.source,
            "train": len(split.train),
            "test": len(split.test),
            "metric": self.score_name,
            "higher_is_better": self.higher_is_better,
        }
