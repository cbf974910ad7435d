"""A loaded variant: predicts labels for a batch of texts, and says what it is."""

from __future__ import annotations

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

    def predict(self, texts: Sequence[str]) -> list[int]:
        """Label indices for ``texts`` (one batch)."""
        ...


def encode(tokenizer: Any, texts: Sequence[str], max_length: int, tensors: str) -> Any:
    """Tokenise one batch the same way for every back-end: padded to its longest text,
    truncated at ``max_length``, so variants are compared on identical inputs."""
    return tokenizer(
        list(texts), padding=True, truncation=True, max_length=max_length, return_tensors=tensors
    )


WEIGHT_SUFFIXES = (".safetensors", ".onnx", ".bin", ".pt", ".data")


def size_on_disk(path: Path) -> int | None:
    """Bytes of the weight files of a model file or folder (None if there are none)."""
    if path.is_file():
        return path.stat().st_size
    files = [p for p in path.rglob("*") if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES)]
    return sum(p.stat().st_size for p in files) if files else None
