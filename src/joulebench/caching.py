"""Where joulebench caches what it builds: the user's cache folder (platformdirs)."""

from __future__ import annotations

from pathlib import Path

import platformdirs


def cache_root() -> Path:
    """The folder every cached model and build is under (``~/.cache/joulebench`` on Linux)."""
    return Path(platformdirs.user_cache_dir("joulebench"))
