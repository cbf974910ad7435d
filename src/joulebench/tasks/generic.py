"""A task of the user's own: inputs, labels of any kind, and a metric that scores predictions.

For detectors, regressors, anything whose score joulebench cannot compute itself: the metric is
any callable ``metric(predictions, labels) -> float`` (mAP from the user's own evaluator, say),
with its direction declared. Its 95% interval is scipy's BCa bootstrap over examples (9,999
resamples where that costs under a second, else 2,000; ``bootstrap=0`` for none), and the
replicates are kept so that ``compare`` can pair two variants' resamples (a paired bootstrap).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from joulebench.errors import UserError
from joulebench.statistics.bootstrap import Replicates, bca_interval, check_resamples
from joulebench.tasks.arrays import check_one_label_each, pick
from joulebench.tasks.classification import Split
from joulebench.tasks.metrics import Score, Scores
from joulebench.tasks.outcomes import hash_test_set

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


def metric_value(
    metric: Metric, name: str, predictions: Sequence[Any], labels: Sequence[Any]
) -> float:
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


def metric_score(
    metric: Metric,
    name: str,
    predictions: list[Any],
    labels: list[Any],
    *,
    higher_is_better: bool,
    seed: int,
    bootstrap: int | None,
    test_set: Callable[[], str],
) -> tuple[Score, Replicates | None]:
    """The metric over every example with its BCa-bootstrap 95% interval over examples and the
    replicates (none with ``bootstrap=0`` or a single example); ``test_set()`` names the
    examples, for pairing two variants' replicates."""
    value = metric_value(metric, name, predictions, labels)
    if bootstrap == 0 or len(predictions) < 2:
        return Score(name, value, None, None, higher_is_better, len(predictions)), None

    def statistic(index: np.ndarray) -> float:
        return metric_value(metric, name, [predictions[i] for i in index],
                            [labels[i] for i in index])  # fmt: skip

    low, high, replicates = bca_interval(
        statistic, len(predictions), seed=seed, resamples=bootstrap, test_set=test_set()
    )
    return Score(name, value, low, high, higher_is_better, len(predictions)), replicates


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
    bootstrap: int | None = None
    """Resamples for the metric's interval: None chooses (9,999 or 2,000), 0 for none."""
    name: str = "custom"

    def __post_init__(self) -> None:
        try:
            check_resamples(self.bootstrap)
        except ValueError as exc:
            raise UserError(str(exc)) from None

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
        """The metric over every example, with its BCa-bootstrap 95% interval and replicates."""
        if len(predictions) != len(test):
            raise UserError(
                f"{len(predictions)} predictions for {len(test)} examples; the variant must "
                "return one prediction per example"
            )
        name = self.score_name
        labels = list(test.labels)
        score, replicates = metric_score(
            self.metric, name, list(predictions), labels,
            higher_is_better=self.higher_is_better, seed=self.seed, bootstrap=self.bootstrap,
            test_set=lambda: hash_test_set(test.inputs, labels),
        )  # fmt: skip
        return Scores({name: score}, replicates=replicates)

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
            "test_set_sha256": hash_test_set(split.test.inputs, list(split.test.labels)),
        }
