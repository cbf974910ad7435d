"""Text classification: the classification task over a ``TextDataset`` (kept for its name)."""

from __future__ import annotations

from joulebench.tasks.classification import Classification, Split

TextClassification = Classification
"""Classification of texts: the same task as :class:`Classification`."""

__all__ = ["Split", "TextClassification"]
