"""Tasks: data sets and the metrics a variant is scored by.

Classification of texts, images or any arrays (accuracy with its interval, top-5, macro-F1),
and a task of the user's own with any metric. ``from_arrays``, ``from_images`` and ``generic``
make one from what a user has; ``digits`` and ``bbc_news`` ship with packages (no download).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from joulebench.tasks.arrays import ArrayDataset, as_dataset, digits, image_folder, load_arrays
from joulebench.tasks.base import Task
from joulebench.tasks.classification import Classification, Split
from joulebench.tasks.data import TextDataset, bbc_news, builtin, load_table
from joulebench.tasks.generic import GenericDataset, GenericTask, Metric
from joulebench.tasks.metrics import Accuracy, Score, Scores, accuracy, macro_f1
from joulebench.tasks.text_classification import TextClassification


def from_arrays(
    inputs: Any,
    labels: Sequence[Any],
    *,
    label_names: Sequence[str] | None = None,
    test_fraction: float = 1.0,
    max_test: int | None = None,
    seed: int = 0,
    name: str = "classification",
) -> Classification:
    """Classify ``inputs`` (an array, first axis = example, or a list) into ``labels``.

    By default every example is scored (``test_fraction=1.0``: the arrays are a test set);
    give a fraction to hold out part of them, stratified and seeded.
    """
    data = as_dataset(inputs, labels, label_names, f"arrays ({len(labels)} examples)")
    return Classification(data, test_fraction, max_test, None, seed, name)


def from_images(
    root: Path | str,
    *,
    size: tuple[int, int] | None = None,
    test_fraction: float = 1.0,
    max_test: int | None = None,
    seed: int = 0,
    name: str = "image classification",
) -> Classification:
    """Classify images stored one folder per class (``root/cat/*.png``); accuracy and top-5."""
    return Classification(image_folder(root, size=size), test_fraction, max_test, None, seed, name)


def generic(
    inputs: Any,
    labels: Sequence[Any],
    metric: Metric,
    *,
    higher_is_better: bool = True,
    metric_name: str | None = None,
    test_fraction: float = 1.0,
    max_test: int | None = None,
    seed: int = 0,
    bootstrap: int | None = None,
    name: str = "custom",
) -> GenericTask:
    """Any inputs, any labels, and ``metric(predictions, labels) -> float`` with its direction.

    The metric's 95% interval is scipy's BCa bootstrap over examples: ``bootstrap``
    resamples (at least 2,000), by default 9,999 where that costs under a second and 2,000
    otherwise; 0 for none (a slow metric).
    """
    if not callable(metric):
        raise TypeError(f"metric must be a function (predictions, labels) -> float, not {metric!r}")
    data = GenericDataset(inputs, tuple(labels), f"arrays ({len(labels)} examples)")
    return GenericTask(
        data, metric, higher_is_better, metric_name, test_fraction, max_test, seed, bootstrap,
        name,
    )  # fmt: skip


__all__ = [
    "Accuracy",
    "ArrayDataset",
    "Classification",
    "GenericDataset",
    "GenericTask",
    "Score",
    "Scores",
    "Split",
    "Task",
    "TextClassification",
    "TextDataset",
    "accuracy",
    "bbc_news",
    "builtin",
    "digits",
    "from_arrays",
    "from_images",
    "generic",
    "image_folder",
    "load_arrays",
    "load_table",
    "macro_f1",
]
