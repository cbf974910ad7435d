"""What a variant is: a model file or folder plus how it was made."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Backend = Literal[
    "torch", "onnxruntime", "onnxruntime-genai", "torchscript", "torch-export", "callable"
]
PATH_BACKENDS = ("torch", "onnxruntime", "onnxruntime-genai", "torchscript", "torch-export")
GENERATION_BACKENDS = ("torch", "onnxruntime-genai")
"""Back-ends that run a generation task (``onnxruntime-genai`` runs nothing else)."""


class VariantSpec(BaseModel):
    """A variant: ``name``, how it was made (``method``, ``parent``, ``recipe``), where it is.

    ``recipe`` holds the steps applied on load, e.g. ``{"quantize": "dynamic-int8"}`` for a
    torch int8 variant made from its parent's weights in the worker. ``family`` groups
    different models on one plot. A ``callable`` variant is the user's ``function``
    (``"package.module:function"`` or ``"file.py:function"``), with an optional ``loader``
    applied to each batch before measuring and ``files`` for its size on disk; the other
    back-ends load ``path``. ``batch_size`` overrides the run's for this variant.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    method: str = "base"
    parent: str | None = None
    family: str | None = None
    backend: Backend = "torch"
    path: Path | None = None
    function: str | None = None
    loader: str | None = None
    files: list[Path] = Field(default_factory=list)
    batch_size: int | None = Field(None, gt=0)
    recipe: dict[str, Any] = Field(default_factory=dict)
    trust_remote_code: bool = False

    @model_validator(mode="before")
    @classmethod
    def _callable_backend(cls, data: Any) -> Any:
        """A variant given by ``function`` is a callable one: no need to say the backend."""
        if isinstance(data, dict) and data.get("function") and "backend" not in data:
            return {**data, "backend": "callable"}
        return data

    @model_validator(mode="after")
    def _where_it_is(self) -> VariantSpec:
        if self.backend == "callable":
            if not self.function:
                raise ValueError(
                    f"variant {self.name!r}: a callable variant needs function = "
                    "'package.module:function' (or 'file.py:function')"
                )
            if self.path is not None:
                raise ValueError(f"variant {self.name!r}: give a function or a path, not both")
        elif self.path is None:
            raise ValueError(
                f"variant {self.name!r}: backend {self.backend!r} needs a path (or give "
                "function = 'module:function' for a Python callable)"
            )
        elif self.function or self.loader:
            raise ValueError(
                f"variant {self.name!r}: function and loader belong to callable variants only"
            )
        return self


def sweep(specs: list[VariantSpec], batch_sizes: list[int] | None) -> list[VariantSpec]:
    """Every variant once per batch size, named ``<name>@b<size>`` (parents renamed alike),
    so each size is a row of its own; ``batch_sizes`` None returns ``specs`` unchanged."""
    if not batch_sizes:
        return list(specs)
    names = {s.name for s in specs}
    return [
        spec.model_copy(
            update={
                "name": f"{spec.name}@b{size}",
                "batch_size": size,
                "parent": f"{spec.parent}@b{size}" if spec.parent in names else spec.parent,
            }
        )
        for size in batch_sizes
        for spec in specs
    ]
