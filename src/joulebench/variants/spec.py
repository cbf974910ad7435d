"""What a variant is: a model file or folder plus how it was made."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Backend = Literal["torch", "onnxruntime"]


class VariantSpec(BaseModel):
    """A variant: ``name``, how it was made (``method``, ``parent``, ``recipe``), where it is.

    ``recipe`` holds the steps applied on load, e.g. ``{"quantize": "dynamic-int8"}`` for a
    torch int8 variant made from its parent's weights in the worker.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    method: str = "base"
    parent: str | None = None
    backend: Backend = "torch"
    path: Path
    recipe: dict[str, Any] = Field(default_factory=dict)
    trust_remote_code: bool = False
