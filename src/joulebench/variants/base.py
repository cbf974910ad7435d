"""A loaded variant: predicts for a batch of inputs (texts, arrays, ...), and says what it is."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class VariantInfo:
    """What can be known about a loaded variant. ``None`` where unknown, never 0."""

    backend: str
    params: int | None
    size_bytes: int | None
    details: dict[str, Any] = field(default_factory=dict)


class LoadedVariant(Protocol):
    """A model ready to run."""

    info: VariantInfo

    def predict(self, batch: Any) -> Any:
        """Predictions for one batch: label indices, scores (n, classes), or n objects."""
        ...


def prepare(model: Any, batch: Any) -> Any:
    """The batch as ``model.predict`` takes it: its ``prepare`` (a loader, a conversion to a
    tensor) where it has one, run before measuring; otherwise the batch itself."""
    step = getattr(model, "prepare", None)
    return step(batch) if step is not None else batch


def encode(tokenizer: Any, texts: Sequence[str], max_length: int, tensors: str) -> Any:
    """Tokenise one batch the same way for every back-end: padded to its longest text,
    truncated at ``max_length``, so variants are compared on identical inputs."""
    return tokenizer(
        list(texts), padding=True, truncation=True, max_length=max_length, return_tensors=tensors
    )


_SPACE = re.compile(r"\s")


def cut_to_tokens(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[str]:
    """Each text cut to the words its first ``max_length`` tokens come from (run once, before
    measuring), so the timed tokenisation does not read whole articles only to drop most of
    them. A text whose tokens would change (checked: the cut text must give the very same
    ``max_length`` tokens) is kept whole; so is every text for a tokenizer without offsets.
    """
    if not getattr(tokenizer, "is_fast", False):
        return list(texts)
    full = tokenizer(list(texts), truncation=True, max_length=max_length,
                     return_offsets_mapping=True)  # fmt: skip
    cut = []
    for text, ids, offsets in zip(texts, full["input_ids"], full["offset_mapping"], strict=True):
        end = max((stop for _, stop in offsets), default=0)
        space = _SPACE.search(text, end)
        cut.append(text if len(ids) < max_length or space is None else text[: space.start()])
    again = tokenizer(cut, truncation=True, max_length=max_length)["input_ids"]
    return [
        short if new == old else text
        for text, short, old, new in zip(texts, cut, full["input_ids"], again, strict=True)
    ]


WEIGHT_SUFFIXES = (".safetensors", ".onnx", ".bin", ".pt", ".data")


def size_on_disk(path: Path) -> int | None:
    """Bytes of the weight files of a model file or folder (None if there are none)."""
    if path.is_file():
        return path.stat().st_size
    files = [p for p in path.rglob("*") if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES)]
    return sum(p.stat().st_size for p in files) if files else None
