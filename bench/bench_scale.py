"""How the harness's own time and memory grow with the number of workloads, and how long the
results store takes to load many runs. Prints figures; asserts nothing.

1. ``measure_many`` over 1, 4, 16 and 64 workloads with a simulated meter on a fake clock: no
   real waiting, so the wall time is the harness's own bookkeeping (scheduling, statistics,
   flags), and the peak of Python allocations (tracemalloc) is its memory. The meter draws a
   constant power (it integrates a window in O(1)) and each workload only moves the fake
   clock, so the figures time the harness, not the fake: a power trace that remembers every
   busy interval would cost time growing with the run and make the harness look quadratic.
   Then 4 workloads with 5, 20, 80 and 320 windows each.
2. ``joulebench.results.load`` over 10, 100 and 1 000 run documents (copies of a committed
   two-variant result): seconds and rows per second.
"""

from __future__ import annotations

import json
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from common import parser, write_json
from joulebench import measure_many
from joulebench.devices import SimulatedMeter
from joulebench.harness.telemetry import HostSnapshot
from joulebench.results import load
from joulebench.testing import FakeClock

REFERENCE = Path(__file__).parent.parent / "tests" / "data" / "variants-v1.json"


def harness(sizes: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """``measure_many`` for each (workloads, windows) in ``sizes``."""
    print("measure_many, simulated meter on a fake clock:")
    rows = []
    print(f"  {'workloads':>9}  {'windows':>7}  {'harness s':>9}  {'per workload ms':>15}  "
          f"{'peak alloc MB':>13}")  # fmt: skip
    for count, windows in sizes:
        clock = FakeClock()
        meter = SimulatedMeter(25.0, noise_frac=0.02, seed=1, clock=clock)
        workloads = {
            f"w{i}": lambda n, call_s=0.001 * (1 + i % 7), c=clock: c.advance(n * call_s)
            for i in range(count)
        }
        tracemalloc.start()
        start = time.perf_counter()
        measure_many(
            workloads, meter, clock=clock, windows=windows, seed=0, warmup_s=0.0,
            host_probe=lambda: HostSnapshot(None, None, None, None),
        )  # fmt: skip
        elapsed_s = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  {count:>9}  {windows:>7}  {elapsed_s:>9.3f}  {elapsed_s / count * 1000:>15.1f}  "
              f"{peak / 1e6:>13.2f}")  # fmt: skip
        rows.append({"workloads": count, "windows": windows, "harness_s": elapsed_s,
                     "peak_alloc_bytes": peak})  # fmt: skip
    return rows


def loading(counts: list[int]) -> list[dict[str, Any]]:
    document = json.loads(REFERENCE.read_text())
    print("results.load over N run documents (2 variants each):")
    print(f"  {'runs':>6}  {'seconds':>8}  {'rows/s':>8}")
    rows = []
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / document["machine_id"]
            folder.mkdir()
            for i in range(count):
                copy = {**document, "run_id": f"{document['run_id']}-{i:05d}"}
                (folder / f"run-{i:05d}.json").write_text(json.dumps(copy))
            start = time.perf_counter()
            frame = load(tmp)
            elapsed_s = time.perf_counter() - start
        print(f"  {count:>6}  {elapsed_s:>8.3f}  {len(frame) / elapsed_s:>8.0f}")
        rows.append({"runs": count, "seconds": elapsed_s, "rows": len(frame)})
    return rows


def main() -> None:
    args = parser(__doc__, "smaller sizes (for CI)").parse_args()
    counts = [1, 4, 16] if args.quick else [1, 4, 16, 64]
    results = {
        "harness": harness(
            [(n, 5) for n in counts] + [(4, 20), (4, 80)] + ([] if args.quick else [(4, 320)])
        ),
        "loading": loading([10, 100] if args.quick else [10, 100, 1000]),
    }
    write_json(args.json, "scale", results)


if __name__ == "__main__":
    main()
