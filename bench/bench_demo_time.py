"""Where the demo's time goes: its stage table, cold (nothing cached) and warm (builds cached).

Runs ``joulebench demo`` (``--quick`` unless ``--full``; ``--llm`` for the generative demo)
twice in a scratch folder with a fresh cache folder: the first run fine-tunes and builds
everything (cold), the second reuses them (warm). Each run's stages (the table every demo
prints at its end; ``stages`` in its ``--json`` output) and wall time are kept. Not run in CI
(minutes of work; CI runs the quick demo once anyway).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import parser, write_json


def one_run(folder: Path, cache: Path, full: bool, llm: bool = False) -> dict[str, Any]:
    command = [sys.executable, "-m", "joulebench.cli.main", "demo", "--json",
               "--cache-dir", str(cache), "--out", str(folder / "results"),
               "--reports", str(folder / "reports")]  # fmt: skip
    if not full:
        command.append("--quick")
    if llm:
        command.append("--llm")
    started = time.perf_counter()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=folder,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=False,
    )
    wall_s = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: a variant failed to build here, the rest measured
        raise SystemExit(f"demo failed ({done.returncode}): {done.stderr[-2000:]}")
    document = json.loads(done.stdout)
    one_run.last_document = document  # type: ignore[attr-defined]
    return {"wall_s": wall_s, "exit_code": done.returncode, "stages": document["stages"],
            "meter": document["measurements"][0]["meter"],
            "variants": len(document["measurements"])}  # fmt: skip


def main() -> None:
    args = parser(__doc__, "the quick demo (the default; --full for the full one)")
    args.add_argument("--full", action="store_true", help="the full ten-variant demo")
    args.add_argument("--llm", action="store_true", help="the generative demo (demo --llm)")
    args.add_argument("--keep-run", default=None, help="also save the warm run's results here")
    options = args.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        cache = folder / "cache"
        runs = {"cold": one_run(folder, cache, options.full, options.llm)}
        runs["warm"] = one_run(folder, cache, options.full, options.llm)
    if options.keep_run:
        Path(options.keep_run).write_text(
            json.dumps(one_run.last_document, indent=1),
            encoding="utf-8",  # type: ignore[attr-defined]
        )
    which = ("llm-" if options.llm else "") + ("full" if options.full else "quick")
    for name, run in runs.items():
        print(f"{which} demo, {name}: {run['wall_s']:.0f} s wall, meter {run['meter']}")
        for row in run["stages"]:
            print(f"  {row['stage']:<48} {row['seconds']:>8.1f} s {row['share']:>5.0%}")
    write_json(options.json, "demo_time", {"demo": which, "runs": runs})


if __name__ == "__main__":
    main()
