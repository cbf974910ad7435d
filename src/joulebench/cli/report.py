"""``joulebench report RESULTS``: an offline HTML page with the battery plot and every figure."""

from __future__ import annotations

import argparse
from pathlib import Path

from joulebench.batteries import battery
from joulebench.cli.format import format_frame
from joulebench.errors import UserError
from joulebench.reports.html import write_html
from joulebench.reports.tables import figures_table
from joulebench.results.frame import load


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "report", help="write an offline HTML report (accuracy vs inferences per charge)"
    )
    parser.add_argument("results", help="a results file or folder (e.g. results/)")
    parser.add_argument(
        "--battery",
        default="phone",
        help="phone, laptop, powerbank, or custom:5000mAh@3.85V (default phone)",
    )
    parser.add_argument("--out", default="reports", help="folder for the report (default reports/)")
    parser.add_argument("--title", default="joulebench report", help="the page's title")
    parser.set_defaults(run=run)


def write_report(results: Path, out: Path, battery_spec: str, title: str) -> tuple[Path, str]:
    """Load, check there are model runs, write the page; return its path and a text table."""
    profile = battery(battery_spec)
    frame = load(results, battery=profile)
    frame = frame[frame["accuracy"].notna()]
    if frame.empty:
        raise UserError(
            f"{results} holds no model runs with accuracy (only plain `measure` runs); "
            "run `joulebench demo` or `joulebench run` first"
        )
    name = f"{frame['run_id'].iloc[0]}.html" if frame["run_id"].nunique() == 1 else "report.html"
    path = write_html(frame, out / name, profile, title)
    return path, format_frame(figures_table(frame), f"{title} — {profile.describe()}")


def run(args: argparse.Namespace) -> int:
    """Write the report and print its table and path."""
    path, table = write_report(Path(args.results), Path(args.out), args.battery, args.title)
    print(table)
    print(f"Report: {path}")
    return 0
