"""Tasks: data sets and the metrics a variant is scored by (text classification first)."""

from __future__ import annotations

from joulebench.tasks.base import Task
from joulebench.tasks.data import TextDataset, bbc_news, builtin, load_table
from joulebench.tasks.metrics import Accuracy, accuracy, macro_f1
from joulebench.tasks.text_classification import Split, TextClassification

__all__ = [
    "Accuracy",
    "Split",
    "Task",
    "TextClassification",
    "TextDataset",
    "accuracy",
    "bbc_news",
    "builtin",
    "load_table",
    "macro_f1",
]
