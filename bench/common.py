"""What every bench shares: a ``--json FILE`` option and the file it writes.

The file holds the bench's rows plus where they came from (machine, date, joulebench version,
the command line), so a figure quoted in a README can be traced to the run that made it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from joulebench import __version__
from joulebench.harness.machine import fingerprint


def parser(description: str | None, quick_help: str) -> argparse.ArgumentParser:
    """An argument parser with ``--quick`` (what CI runs) and ``--json FILE``."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--quick", action="store_true", help=quick_help)
    result.add_argument("--json", default=None, help="also write the figures to this JSON file")
    return result


def code_commit() -> str | None:
    """The commit of the joulebench code that ran (``+dirty`` with uncommitted changes)."""
    import joulebench

    folder = Path(joulebench.__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}+dirty" if dirty else head


def write_json(path: str | None, bench: str, results: dict[str, Any]) -> None:
    """Write ``results`` with their provenance to ``path`` (nothing when ``path`` is None)."""
    if not path:
        return
    machine = fingerprint()
    payload = {
        "bench": bench,
        "created_utc": datetime.now(timezone.utc).isoformat(),
        "joulebench_version": __version__,
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "commit": code_commit(),
        "machine": {k: machine[k] for k in ("cpu_model", "logical_cpus", "memory_bytes", "gpus")},
        "results": results,
    }
    Path(path).write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")
    print(f"written: {path}")
