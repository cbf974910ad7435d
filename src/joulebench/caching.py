"""Where joulebench caches what it builds: ``JOULEBENCH_CACHE_DIR`` where set, else the user's
cache folder (platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

CACHE_ENV = "JOULEBENCH_CACHE_DIR"
"""Set it to keep every build somewhere else: a CI job's cache, a bigger disk, a shared lab
folder (builds are keyed by everything that made them, so sharing is safe)."""


def cache_root() -> Path:
    """The folder every cached model and build is under: ``$JOULEBENCH_CACHE_DIR``, else
    ``~/.cache/joulebench`` on Linux (the platform's user cache folder)."""
    override = os.environ.get(CACHE_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("joulebench"))
