"""Imported once by the workers' fork server: the heavy libraries its workers would import.

Importing this module imports joulebench's worker (numpy, scipy, pandas, scikit-learn: 2 s on
2 cores) and, when the first worker's variant is a Hugging Face model (``PRELOAD_ENV`` says
so), torch and transformers' model code (2 s and 4-5 s), each only where installed, with the
Hugging Face libraries quietened first (as a worker does before loading). It loads no model
and starts no CUDA context; a library that cannot be imported here is imported, or reported,
by the worker that needs it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os

from joulebench.harness.worker import PRELOAD_ENV
from joulebench.variants.hf import quiet_transformers

MODEL_CODE = ("torch", "transformers.modeling_utils")


def preload(modules: tuple[str, ...] | None = None) -> list[str]:
    """Import ``modules`` (those installed; by default :data:`MODEL_CODE` when the
    environment asks for it); return the names imported."""
    if modules is None:
        modules = MODEL_CODE if os.environ.get(PRELOAD_ENV) == "1" else ()
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
