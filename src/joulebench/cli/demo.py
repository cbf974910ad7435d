"""``joulebench demo``: the meters on this machine, then a small measured run with the best one.

Until models arrive (issue 3), the demo measures two built-in matrix workloads (float64 and
float32 matrix products) interleaved, saves the run under ./results and prints the table.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from joulebench.cli.common import add_meter_options, meter_options, progress_printer
from joulebench.cli.format import format_meters, format_results
from joulebench.devices.registry import probe_all
from joulebench.harness.runner import measure_many
from joulebench.results.store import ensure_writable, save

MATRIX_SIZE = 192


def matmul_workload(dtype: type, size: int = MATRIX_SIZE, seed: int = 0) -> Callable[[int], None]:
    """``workload(n)``: n products of two fixed ``size`` x ``size`` matrices of ``dtype``."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((size, size)).astype(dtype)
    b = rng.standard_normal((size, size)).astype(dtype)

    def run(n: int) -> None:
        for _ in range(n):
            a @ b

    return run


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser("demo", help="show the meters and measure a built-in workload")
    add_meter_options(parser)
    parser.add_argument("--quick", action="store_true", help="shorter windows (about 15 s in all)")
    parser.add_argument("--out", default="results", help="results folder (default ./results)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the meters table, measure the demo workloads, print and save the results."""
    print(format_meters(probe_all()))
    print()
    ensure_writable(Path(args.out))
    workloads = {
        "matmul-float64": matmul_workload(np.float64),
        "matmul-float32": matmul_workload(np.float32),
    }
    results = measure_many(
        workloads,
        args.meter,
        meter_options=meter_options(args),
        on_event=progress_printer(),
        windows=5,
        min_window_s=0.5 if args.quick else None,
        warmup_s=0.5 if args.quick else 2.0,
        seed=0,
    )
    path = save(results, args.out, extra={"demo": "matmul"})
    print(format_results(list(results.values())))
    print(f"Saved: {path}")
    return 0
