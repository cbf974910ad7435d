"""Variants that are the user's own Python callables: ``batch of inputs -> predictions``.

joulebench runs every variant in a spawned worker process, so a callable travels there as a
reference it can import: ``"package.module:function"``, or ``"path/to/script.py:function"``
for one defined in a script (the script is imported under another name, so the code under its
``if __name__ == "__main__":`` does not run again). A function defined in a notebook or at the
interactive prompt has no such reference: define it in a ``.py`` file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joulebench.errors import UserError
from joulebench.references import import_reference
from joulebench.variants.spec import VariantSpec

WORKER_ENV = "JOULEBENCH_WORKER"
"""Set in a worker process: ``joulebench.run`` refuses to start a run from inside one."""


@dataclass(frozen=True)
class UserVariant:
    """A callable marked as a variant by :func:`variant`; calling it calls the function."""

    function: Callable[..., Any]
    name: str
    method: str = "base"
    family: str | None = None
    parent: str | None = None
    batch_size: int | None = None
    loader: Callable[..., Any] | str | None = None
    files: tuple[str, ...] = ()
    recipe: dict[str, Any] = field(default_factory=dict)

    def __call__(self, batch: Any) -> Any:
        return self.function(batch)

    def spec(self) -> VariantSpec:
        """The variant as a spec the worker can load (its function as an importable reference)."""
        loader = self.loader
        return VariantSpec(
            name=self.name,
            method=self.method,
            family=self.family,
            parent=self.parent,
            backend="callable",
            function=reference_of(self.function, self.name),
            loader=loader if isinstance(loader, str) or loader is None
            else reference_of(loader, self.name),
            batch_size=self.batch_size,
            files=[Path(f) for f in self.files],
            recipe=self.recipe,
        )  # fmt: skip


def variant(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    method: str = "base",
    family: str | None = None,
    parent: str | None = None,
    batch_size: int | None = None,
    loader: Callable[..., Any] | str | None = None,
    files: tuple[str, ...] | list[str] = (),
) -> Any:
    """Mark a function ``batch -> predictions`` as a variant to measure.

    ``name`` defaults to the function's name; ``family`` groups different models on a plot
    (``"resnet"``, ``"mobilenet"``); ``batch_size`` overrides the run's; ``loader`` turns each
    batch of the task's inputs into what the function takes, once, before measuring (not
    measured: e.g. decoding files to tensors); ``files`` are the model's weight files, for its
    size on disk. Usable bare (``@variant``) or with arguments (``@variant(name=...)``).
    """

    def mark(fn: Callable[..., Any]) -> UserVariant:
        if not callable(fn):
            raise UserError(f"@joulebench.variant marks a function, not {type(fn).__name__}")
        return UserVariant(
            fn,
            name or getattr(fn, "__name__", "variant"),
            method,
            family,
            parent,
            batch_size,
            loader,
            tuple(str(f) for f in files),
        )

    return mark(function) if function is not None else mark


def as_spec(item: Any) -> VariantSpec:
    """A spec from what a user passes as a variant: a spec, a marked or plain function."""
    if isinstance(item, VariantSpec):
        return item
    if isinstance(item, UserVariant):
        return item.spec()
    if callable(item):
        return variant(item).spec()
    raise UserError(
        f"{item!r} is not a variant: give a function (batch -> predictions), one marked with "
        "@joulebench.variant, or a VariantSpec"
    )


def reference_of(function: Callable[..., Any], variant_name: str) -> str:
    """``module:qualname`` of ``function`` (a script's path when it lives in ``__main__``)."""
    target = function.function if isinstance(function, UserVariant) else function
    module_name = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None) or getattr(target, "__name__", None)
    if not module_name or not qualname or "<locals>" in qualname or "<lambda>" in qualname:
        raise UserError(
            f"variant {variant_name!r}: {qualname or target!r} is not importable by the worker "
            "process (a lambda or a function defined inside another); define it at the top "
            "level of a .py file"
        )
    if module_name == "__main__":
        main_file = getattr(sys.modules.get("__main__"), "__file__", None)
        if not main_file:
            raise UserError(
                f"variant {variant_name!r}: {qualname} is defined in an interactive session "
                "(notebook or prompt), which the worker process cannot import; move it into a "
                ".py file and import it from there"
            )
        return f"{Path(main_file).resolve()}:{qualname}"
    return f"{module_name}:{qualname}"


def resolve(
    reference: str, variant_name: str, base_dir: Path | None = None, *, what: str | None = None
) -> Any:
    """Import the function a reference names (``joulebench.references``); a function marked
    with :func:`variant` is unwrapped. Failures are one line naming the variant (or ``what``).
    """
    target = import_reference(reference, what or f"variant {variant_name!r}", base_dir)
    return target.function if isinstance(target, UserVariant) else target
