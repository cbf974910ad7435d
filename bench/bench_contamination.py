"""The contamination check on this machine: how often it flags a quiet window, how often it
catches another program's busy loop, and what the check itself costs. Prints figures;
asserts nothing.

1. **At rest**: the foreign load (``harness.contamination``: the machine's busy CPU time less
   this process tree's) over back-to-back windows of ``window_s`` while this process sleeps:
   the distribution of foreign cores, and the share of windows the default limit (0.5 cores)
   would call contaminated (a false alarm, on a quiet machine, unless something really ran).
2. **Loaded**: the same windows while a busy loop that is *not* joulebench's descendant (its
   parent exits, so init adopts it) spins on one core: the share caught.
3. **Ours is not foreign**: the same while a child of this process spins: the share of
   windows flagged (a false alarm: the workers are joulebench's own).
4. **Cost**: the time of one usage sample (two per window, outside the meter's span).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

from common import parser, write_json
from joulebench.harness.contamination import SystemUsage, foreign_load, verdict
from joulebench.testing import busy_elsewhere

DEFAULT_LIMIT = 0.5


def spin_child(seconds: float) -> subprocess.Popen[bytes]:
    """A busy loop for ``seconds`` in a child of this process."""
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
    return subprocess.Popen([sys.executable, "-c", code])


def windows(count: int, window_s: float) -> list[float]:
    """Foreign cores over ``count`` back-to-back windows of ``window_s``."""
    probe = SystemUsage()
    cores = []
    for _ in range(count):
        begin = probe.sample()
        time.sleep(window_s)
        cores.append(foreign_load(begin, probe.sample()).cores)
    return cores


def flagged(cores: list[float], window_s: float) -> float:
    """The share of windows the default limit calls contaminated."""
    from joulebench.harness.contamination import ForeignLoad

    hits = [verdict(ForeignLoad(c * window_s, c), DEFAULT_LIMIT) is not None for c in cores]
    return sum(hits) / len(hits)


def summary(name: str, cores: list[float], window_s: float) -> dict[str, Any]:
    """One row: the foreign cores' median, 95th percentile and the share flagged."""
    ordered = sorted(cores)
    row = {
        "condition": name,
        "windows": len(cores),
        "window_s": window_s,
        "median_foreign_cores": round(statistics.median(ordered), 3),
        "p95_foreign_cores": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "max_foreign_cores": round(ordered[-1], 3),
        "share_flagged": round(flagged(cores, window_s), 3),
    }
    print(f"{name:36} {row['windows']:>7} {row['median_foreign_cores']:>8.3f} "
          f"{row['p95_foreign_cores']:>8.3f} {row['max_foreign_cores']:>8.3f} "
          f"{row['share_flagged']:>8.1%}")  # fmt: skip
    return row


def main() -> None:
    args = parser(__doc__, "fewer windows (for CI)").parse_args()
    count, window_s = (10, 0.5) if args.quick else (60, 1.0)
    spin_s = count * window_s + 1.0
    print(f"{os.cpu_count()} CPUs; limit {DEFAULT_LIMIT} foreign cores")
    print(f"{'condition':36} {'windows':>7} {'median':>8} {'p95':>8} {'max':>8} {'flagged':>8}")
    rows = [summary("at rest", windows(count, window_s), window_s)]
    busy_elsewhere(spin_s)
    time.sleep(0.3)
    rows.append(summary("another program spins one core", windows(count, window_s), window_s))
    time.sleep(1.0)
    child = spin_child(spin_s)
    time.sleep(0.3)
    rows.append(summary("our own child spins one core", windows(count, window_s), window_s))
    child.wait()
    probe = SystemUsage()
    start = time.perf_counter()
    samples = 200
    for _ in range(samples):
        probe.sample()
    cost_ms = (time.perf_counter() - start) / samples * 1000
    print(f"one usage sample: {cost_ms:.2f} ms (two per window, outside the meter's span)")
    results = {"limit_cores": DEFAULT_LIMIT, "cpus": os.cpu_count(), "rows": rows,
               "sample_ms": round(cost_ms, 3)}  # fmt: skip
    write_json(args.json, "contamination", results)


if __name__ == "__main__":
    main()
