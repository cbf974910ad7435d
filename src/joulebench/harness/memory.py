"""Peak memory of a process: VmHWM on Linux, else the resource module's ru_maxrss."""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def peak_rss_bytes(status: Path = Path("/proc/self/status")) -> int | None:
    """Peak resident set size of this process in bytes (None where it cannot be read)."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except (OSError, ValueError):
        return None
    return int(maxrss if sys.platform == "darwin" else maxrss * 1024)
