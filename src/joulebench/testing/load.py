"""Another program's load, for testing the contamination check (``harness.contamination``)."""

from __future__ import annotations

import os
import subprocess
import sys

from joulebench.errors import UserError


def busy_elsewhere(seconds: float) -> None:
    """Keep one core busy for ``seconds`` in a process that is *not* this one's descendant
    (it is forked by a child that exits at once, so init adopts it): to joulebench it is
    another program. Returns at once; the loop ends by itself. Needs ``fork`` (not Windows)."""
    if not hasattr(os, "fork"):
        raise UserError("busy_elsewhere needs os.fork (Linux or macOS)")
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        f"    end = time.monotonic() + {float(seconds)!r}\n"
        "    while time.monotonic() < end: pass\n"
        "    os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
