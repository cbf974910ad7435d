"""Per-inference figures when the test set does not split evenly into batches.

A variant whose work takes exactly 4 ms per example (``tests/workloads.py``), on 10 examples
at batch 4 (batches of 4, 4, 2) and at batch 5 (5, 5), measured by ``run_variants`` with the
simulated meter at a constant 15 W: the truth is 250 inferences/s at most and 60 mJ per
inference at least. Printed beside joulebench's figures: what dividing each window by calls x
batch size (as joulebench did before results schema 2) would have said.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import numpy as np

from common import parser, write_json
from joulebench.harness.variant_run import run_variants
from joulebench.tasks import from_arrays
from joulebench.variants import VariantSpec

ROOT = Path(__file__).resolve().parent.parent
FUNCTION = f"{ROOT / 'tests' / 'workloads.py'}:four_ms_per_item"
POWER_W, SECONDS_PER_ITEM = 15.0, 0.004


def row(batch_size: int, windows: int) -> dict[str, Any]:
    task = from_arrays(np.arange(20.0).reshape(10, 2), np.arange(10) % 2)
    run = run_variants([VariantSpec(name="work", function=FUNCTION)], task, meter="simulated",
                       batch_size=batch_size, windows=windows, min_window_s=1.0, seed=0,
                       warmup_s=0.2)  # fmt: skip
    if run.failures:
        raise SystemExit(f"bench: {run.failures[0].error}")
    result = run.results[0]
    by_calls = [w.energy_j / (w.calls * batch_size) for w in result.energy.windows]
    rate_by_calls = [w.calls * batch_size / w.duration_s for w in result.energy.windows]
    return {"batch_size": batch_size,
            "throughput_per_s": result.throughput_per_s,
            "energy_per_inference_j": result.energy_per_inference_j.mean,
            "energy_ci95_j": result.energy_per_inference_j.ci95,
            "calls_x_batch_throughput_per_s": statistics.mean(rate_by_calls),
            "calls_x_batch_energy_j": statistics.mean(by_calls)}  # fmt: skip


def main() -> None:
    args = parser(__doc__, "3 windows instead of 5 (for CI)").parse_args()
    rows = [row(batch, 3 if args.quick else 5) for batch in (4, 5)]
    floor_mj = POWER_W * SECONDS_PER_ITEM * 1000
    print(f"10 examples, 4 ms of work each (at most {1 / SECONDS_PER_ITEM:.0f}/s), simulated "
          f"{POWER_W:.0f} W (so at least {floor_mj:.0f} mJ/inference):")  # fmt: skip
    print(f"  {'batch':>5} {'inf/s':>7} {'mJ/inference':>15} | {'calls x batch: inf/s':>20} "
          f"{'mJ/inference':>12}")  # fmt: skip
    for r in rows:
        print(f"  {r['batch_size']:>5} {r['throughput_per_s']:>7.1f} "
              f"{r['energy_per_inference_j'] * 1000:>8.2f} ± {r['energy_ci95_j'] * 1000:.2f} | "
              f"{r['calls_x_batch_throughput_per_s']:>20.1f} "
              f"{r['calls_x_batch_energy_j'] * 1000:>12.2f}")  # fmt: skip
    write_json(args.json, "items", {"power_w": POWER_W, "seconds_per_item": SECONDS_PER_ITEM,
                                    "rows": rows})  # fmt: skip


if __name__ == "__main__":
    main()
