"""Where the demo's time goes: its stage table, cold (nothing cached) and warm (builds cached).

Runs ``joulebench demo`` (README command 1's tier; ``--quick`` or ``--full`` for the others,
as on the command line; ``--llm`` for the generative demo) twice in a scratch folder with a
fresh cache folder: the first run fine-tunes and builds everything (cold), the second reuses
them (warm). Each run's stages (the table every demo prints at its end; ``stages`` in its
``--json`` output) and wall time are kept, with how many windows each variant's adaptive stop
took and which variants missed its target. Not run in CI (minutes of work; CI runs the demo
once anyway).
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


def one_run(folder: Path, cache: Path, tier: str, llm: bool = False) -> dict[str, Any]:
    command = [sys.executable, "-m", "joulebench.cli.main", "demo", "--json",
               "--cache-dir", str(cache), "--out", str(folder / "results"),
               "--reports", str(folder / "reports")]  # fmt: skip
    if tier != "standard":
        command.append(f"--{tier}")
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
    measurements = document["measurements"]
    windows = {m["label"]: len(m["windows"]) for m in measurements}
    missed = [m["label"] for m in measurements
              if (m.get("stopping") or {}).get("planned_windows_reached") is False]  # fmt: skip
    return {"wall_s": wall_s, "exit_code": done.returncode, "stages": document["stages"],
            "meter": measurements[0]["meter"], "variants": len(measurements),
            "windows": windows, "target_not_met": missed}  # fmt: skip


def main() -> None:
    args = parser(__doc__, "the quick demo (demo --quick) instead of the default")
    args.add_argument("--full", action="store_true", help="the full demo (demo --full)")
    args.add_argument("--llm", action="store_true", help="the generative demo (demo --llm)")
    args.add_argument("--keep-run", default=None, help="also save the warm run's results here")
    options = args.parse_args()
    tier = "full" if options.full else "quick" if options.quick else "standard"
    if options.llm and tier == "standard":
        tier = "full"  # the generative demo has two sizes: --quick and its default
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        cache = folder / "cache"
        runs = {"cold": one_run(folder, cache, tier, options.llm)}
        runs["warm"] = one_run(folder, cache, tier, options.llm)
    if options.keep_run:
        Path(options.keep_run).write_text(
            json.dumps(one_run.last_document, indent=1),
            encoding="utf-8",  # type: ignore[attr-defined]
        )
    which = ("llm-" if options.llm else "") + tier
    for name, run in runs.items():
        print(f"{which} demo, {name}: {run['wall_s']:.0f} s wall, meter {run['meter']}")
        counts = sorted(run["windows"].values())
        print(f"  windows per workload {counts[0]}-{counts[-1]}; target missed by "
              f"{', '.join(run['target_not_met']) or 'none'}")  # fmt: skip
        for row in run["stages"]:
            print(f"  {row['stage']:<48} {row['seconds']:>8.1f} s {row['share']:>5.0%}")
    write_json(options.json, "demo_time", {"demo": which, "runs": runs})


if __name__ == "__main__":
    main()
