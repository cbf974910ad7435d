"""A user's callable as a loaded variant, in the worker: import it, find what it is, call it.

What can be known about an arbitrary callable is found, never made up: the torch modules it
reaches (its closure, the globals it names, a bound method's object) give its parameter count
and the bytes of their weights; ``files`` given with the variant give its size on disk;
anything else is ``None`` ("unknown"), never 0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from joulebench.variants.base import VariantInfo, size_on_disk
from joulebench.variants.spec import VariantSpec
from joulebench.variants.user import resolve


def _reachable(function: Any) -> Iterator[Any]:
    """Objects a function reaches directly: its closure, the globals it names, its ``self``."""
    owner = getattr(function, "__self__", None)
    if owner is not None:
        yield owner
    code = getattr(function, "__code__", None)
    if code is None:  # a callable object: its attributes
        yield function
        yield from vars(function).values() if hasattr(function, "__dict__") else ()
        return
    for cell in getattr(function, "__closure__", None) or ():
        try:
            yield cell.cell_contents
        except ValueError:  # an empty cell
            continue
    namespace = getattr(function, "__globals__", {})
    for name in code.co_names:
        if name in namespace:
            yield namespace[name]


def torch_modules(function: Any) -> list[Any]:
    """The distinct ``torch.nn.Module`` objects ``function`` reaches (one level deep)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return []
    found: dict[int, Any] = {}
    for item in _reachable(function):
        if isinstance(item, ModuleType):  # a Python module the function names (torch, np)
            continue
        candidates = [item, *(vars(item).values() if hasattr(item, "__dict__") else [])]
        for candidate in candidates:
            if isinstance(candidate, torch.nn.Module):
                found.setdefault(id(candidate), candidate)
    # a module inside another found module is counted once, through its parent
    inner = {id(m) for module in found.values() for m in module.modules() if m is not module}
    return [m for key, m in found.items() if key not in inner]


class CallableVariant:
    """``spec.function`` imported and ready: ``predict(batch)`` calls it."""

    def __init__(self, spec: VariantSpec) -> None:
        assert spec.function is not None
        self.name = spec.name
        self.function: Callable[[Any], Any] = resolve(spec.function, spec.name)
        self.loader: Callable[[Any], Any] | None = (
            resolve(spec.loader, spec.name) if spec.loader else None
        )
        self.info = self._describe(spec)

    def _describe(self, spec: VariantSpec) -> VariantInfo:
        modules = torch_modules(self.function)
        details: dict[str, Any] = {"function": spec.function}
        params = None
        size_bytes = None
        if modules:
            params = sum(p.numel() for m in modules for p in m.parameters())
            weights = sum(
                t.numel() * t.element_size()
                for m in modules
                for t in [*m.parameters(), *m.buffers()]
            )
            details["torch_modules"] = [type(m).__name__ for m in modules]
            details["weights_in_memory_bytes"] = int(weights)
            size_bytes = int(weights)
            details["size_from"] = "torch module weights in memory"
        if spec.files:
            sizes = [size_on_disk(Path(f)) for f in spec.files]
            if all(s is not None for s in sizes):
                size_bytes = int(sum(s for s in sizes if s is not None))
                details["size_from"] = "files"
        if params is None:
            details["params_unknown"] = "the callable reaches no torch module"
        return VariantInfo("callable", params, size_bytes, details)

    def prepare(self, batch: Any) -> Any:
        """The batch as the function takes it (the loader's output; not measured)."""
        return self.loader(batch) if self.loader is not None else batch

    def predict(self, batch: Any) -> Any:
        """The function's predictions for one prepared batch."""
        return self.function(batch)
