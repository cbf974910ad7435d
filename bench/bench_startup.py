"""What every command and worker pays before it does anything: ``import joulebench``.

Times the import in fresh interpreters (``--runs`` each, the median kept) for the installed
joulebench, or for each ``--src`` folder given (a checkout's ``src``, e.g. an older commit's
worktree, to compare). Also lists which slow scientific modules the import pulled in.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import parser, write_json

SLOW = ("scipy.stats", "scipy.integrate", "sklearn", "pandas", "torch", "transformers")
PROBE = (
    "import sys, time; t = time.perf_counter(); import joulebench; "
    "print(time.perf_counter() - t); "
    f"print(','.join(m for m in {SLOW!r} if m in sys.modules))"
)


def time_import(src: str | None, runs: int) -> dict[str, Any]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = str(Path(src).resolve())
    seconds, modules = [], ""
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                              env=env, check=True)  # fmt: skip
        first, modules = done.stdout.splitlines()[:2] + [""] * (2 - len(done.stdout.splitlines()))
        seconds.append(float(first))
    return {"src": src or "installed", "runs": runs, "median_s": statistics.median(seconds),
            "min_s": min(seconds), "max_s": max(seconds), "slow_modules": modules.split(",")
            if modules else []}  # fmt: skip


def main() -> None:
    args = parser(__doc__, "3 runs each instead of 10")
    args.add_argument("--src", action="append", default=None, help="a checkout's src folder")
    args.add_argument("--runs", type=int, default=None)
    options = args.parse_args()
    runs = options.runs or (3 if options.quick else 10)
    rows = [time_import(src, runs) for src in (options.src or [None])]
    for row in rows:
        print(f"{row['src']:<40} median {row['median_s']:.3f} s (min {row['min_s']:.3f}, max "
              f"{row['max_s']:.3f}) over {runs}; pulled in: "
              f"{', '.join(row['slow_modules']) or 'none of ' + ', '.join(SLOW)}")  # fmt: skip
    write_json(options.json, "startup", {"rows": rows})


if __name__ == "__main__":
    main()
