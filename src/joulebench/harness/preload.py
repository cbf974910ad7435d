"""Imported once by the workers' fork server: the heavy libraries every worker would import.

Importing this module imports torch, transformers' model code and joulebench's worker, each
only where installed, with the Hugging Face libraries quietened first (as a worker does
before loading), and never fails: a library that cannot be imported here is imported, or
reported, by the worker that needs it. It loads no model and starts no CUDA context.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util

HEAVY = ("torch", "transformers.modeling_utils", "joulebench.harness.worker")
"""On 2 cores: torch 2 s, transformers' model code 4-5 s, the worker's own imports 2 s."""


def preload(modules: tuple[str, ...] = HEAVY) -> list[str]:
    """Import ``modules`` (those installed); return the names imported."""
    from joulebench.variants.hf import quiet_transformers

    quiet_transformers()
    done = []
    for name in modules:
        if importlib.util.find_spec(name.partition(".")[0]) is None:
            continue
        with contextlib.suppress(Exception):  # the worker that needs it will say why
            importlib.import_module(name)
            done.append(name)
    return done


LOADED = preload()
