"""``joulebench history results/``: energy, time, accuracy and idle power across commits.

One series per machine, energy method, variant and metric, ordered by the commit each run
measured (recorded in every results file); the steps found in them, each with its size and 95%
interval, a step in idle power reported as the machine's; an offline HTML page with a panel
per metric. ``joulebench compare --history results/ --last 10 candidate.json`` gates a new
run against the same past.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from joulebench.cli.format import format_frame
from joulebench.errors import UserError
from joulebench.history.export import asv_results, bencher_metrics
from joulebench.history.page import history_page
from joulebench.history.series import load_points, series
from joulebench.history.summary import find_steps, series_rows, step_rows
from joulebench.reports.html import write_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "history",
        help="series across commits, the steps in them, an HTML page (and a Bencher export)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", nargs="+", help="results files or folders (e.g. results/)")
    parser.add_argument("--out", default="reports", help="folder for the page (default reports/)")
    parser.add_argument(
        "--last",
        type=int,
        default=10,
        help="runs the gate compares the next one against, shaded on the page (default 10)",
    )
    parser.add_argument(
        "--bencher",
        default=None,
        metavar="FILE",
        help="also write the newest run in Bencher's metric format (JSON) to FILE",
    )
    parser.add_argument(
        "--asv",
        default=None,
        metavar="DIR",
        help="also write every run with a commit as asv results (machine.json, one file per "
        "commit, benchmarks.json) into DIR",
    )
    parser.add_argument("--wide", action="store_true", help="print every column")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the series and steps, write the page (and the export)."""
    points = load_points(args.results)
    if not points:
        raise UserError(
            f"{', '.join(args.results)} holds no run with windows to make a history of; "
            "measure with `joulebench run` (or demo) first"
        )
    grouped = series(points)
    steps = find_steps(grouped)
    rows = step_rows(grouped, steps)
    optional = () if args.wide else ("commits", "energy method")
    print(format_frame(pd.DataFrame(series_rows(grouped, steps)), "joulebench history",
                       optional=optional))  # fmt: skip
    if rows:
        print(format_frame(pd.DataFrame(rows), "Steps (95% intervals)"))
    else:
        print("No steps found.")
    runs = len({p.run_id for p in points})
    if any(p.commit is None for p in points):
        missing = len({p.run_id for p in points if p.commit is None})
        print(f"note: {missing} of {runs} runs recorded no commit; they are placed by their time")
    page = write_text(
        Path(args.out) / "history.html", history_page(grouped, steps, rows, max(2, args.last))
    )
    print(f"History (html): {page}")
    if args.bencher:
        newest = max(points, key=lambda p: p.order).run_id
        export = bencher_metrics([p for p in points if p.run_id == newest])
        path = write_text(Path(args.bencher), json.dumps(export, indent=1) + "\n")
        print(f"Bencher metrics of run {newest}: {path}")
    if args.asv:
        files = asv_results(points, Path(args.asv))
        print(f"asv results: {len(files)} file(s) under {args.asv}")
    return 0
