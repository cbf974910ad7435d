"""Files joulebench writes for the user: the permissions any other file of theirs would get."""

from __future__ import annotations

import os
from pathlib import Path


def umask() -> int:
    """This process's file-creation mask (read without changing it for long)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def give_user_permissions(path: Path | str) -> None:
    """Set ``path`` to what a plain ``open(path, "w")`` would have made (0666 less the umask):
    a temporary file from ``tempfile.mkstemp`` is 0600, which a results or report file, meant
    to be shared, should not stay."""
    Path(path).chmod(0o666 & ~umask())
