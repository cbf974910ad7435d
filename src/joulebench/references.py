"""Importing what a ``module:attribute`` or ``file.py:attribute`` reference names.

A small module below both ``tasks`` (a task's metric) and ``variants`` (a user's predict
function, its loader): importing a reference is neither a task's nor a variant's job.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from joulebench.errors import UserError


def _import_file(path: Path) -> ModuleType:
    module_name = f"joulebench_user_{abs(hash(str(path))):x}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UserError(f"{path} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.parent))  # the script's own imports of its neighbours
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def import_reference(reference: str, owner: str, base_dir: Path | None = None) -> Any:
    """Import the callable a ``module:attribute`` or ``file.py:attribute`` reference names.

    ``owner`` says whose reference it is in messages (``variant 'a'``, ``the task's metric``).
    Every failure is one line naming the owner, the reference and the fix.
    """
    module_part, sep, attribute = reference.rpartition(":")
    if not sep or not module_part or not attribute:
        raise UserError(
            f"{owner}: {reference!r} is not a reference; write "
            "'package.module:function' or 'path/to/file.py:function'"
        )
    try:
        if module_part.endswith(".py"):
            path = Path(module_part).expanduser()
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            if not path.is_file():
                raise UserError(f"{owner}: file {path} (from {reference!r}) does not exist")
            module = _import_file(path.resolve())
        else:
            here = str(Path.cwd())  # a package in the folder a run starts from, as `python -m`
            if here not in sys.path and "" not in sys.path:
                sys.path.insert(0, here)
            module = importlib.import_module(module_part)
    except UserError:
        raise
    except ImportError as exc:
        raise UserError(
            f"{owner}: cannot import {module_part!r} ({exc}); install the "
            "package that holds it or run from its folder"
        ) from None
    except Exception as exc:
        raise UserError(
            f"{owner}: importing {module_part!r} raised {type(exc).__name__}: {exc}"
        ) from None
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise UserError(
                f"{owner}: {module_part!r} has no {attribute!r}; check the name after the colon"
            )
        target = getattr(target, part)
    if not callable(target):
        raise UserError(f"{owner}: {reference!r} is a {type(target).__name__}, not a function")
    return target
