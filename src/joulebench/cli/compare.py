"""``joulebench compare A B``: did B regress against A? Exit 1 if so, 0 if not, 2 on bad input."""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from joulebench.cli.format import format_frame
from joulebench.errors import JoulebenchError, UserError
from joulebench.history.gate import compare_history
from joulebench.reports.formats import markdown_table
from joulebench.reports.numbers import significant
from joulebench.results.compare import DEFAULT_THRESHOLDS, Change, changes_to_dicts, compare
from joulebench.statistics.multiple import CORRECTIONS

UNITS = {
    "energy_j": (1000.0, "mJ"),
    "time_s": (1000.0, "ms"),
    "accuracy": (100.0, "%"),
    "score": (1.0, ""),
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "compare", help="compare two runs; exit 1 on a significant regression past a threshold"
    )
    parser.add_argument("a", help="baseline results file or folder (with --history: the candidate)")
    parser.add_argument("b", nargs="?", default=None, help="candidate results file or folder")
    parser.add_argument(
        "--history",
        default=None,
        metavar="DIR",
        help="judge the candidate (the one results argument) against the last --last runs of "
        "the same machine and method in DIR, their spread as the noise",
    )
    parser.add_argument(
        "--last", type=int, default=10, help="past runs for --history (default 10; at least 3)"
    )
    parser.add_argument(
        "--fail-on",
        action="append",
        default=None,
        metavar="METRIC:±N[%|pt]",
        help="threshold, e.g. energy_j:+5%% or accuracy:-1pt (repeatable; "
        f"default {' '.join(DEFAULT_THRESHOLDS).replace('%', '%%')})",
    )
    parser.add_argument("--format", choices=("table", "md", "json"), default="table")
    parser.add_argument(
        "--allow-different-hardware",
        action="store_true",
        help="compare runs from different machines, meters or energy methods",
    )
    parser.add_argument(
        "--allow-different-settings",
        action="store_true",
        help="compare runs measured with different settings (test set, max length, batch "
        "size, threads, device, dtype); every output then says which differ",
    )
    parser.add_argument(
        "--correction",
        choices=CORRECTIONS,
        default="holm",
        help="adjust the p-values for the number of tests (variants x metrics): holm "
        "(family-wise error, default), bh (Benjamini-Hochberg false discovery rate) or none",
    )
    parser.set_defaults(run=run)


def _cell(change: Change, value: float) -> str:
    factor, unit = UNITS[change.metric]
    return f"{significant(value * factor, 4)} {unit}".rstrip()


def changes_table(changes: list[Change]) -> pd.DataFrame:
    """One row per variant and metric, in readable units."""
    rows = []
    for c in changes:
        factor, unit = UNITS[c.metric]
        half = (c.ci_high - c.ci_low) / 2 * factor
        rows.append(
            {
                "variant": c.variant,
                "metric": c.metric,
                "A": _cell(c, c.a),
                "B": _cell(c, c.b),
                "B - A (95% CI)": (
                    f"{significant(c.change * factor, 3, sign=True)} ± "
                    f"{significant(half, 2)} {unit}"
                ).rstrip(),
                "relative": "—" if c.relative is None else f"{c.relative:+.1%}",
                "p (adjusted)": _p_cell(c),
                "threshold": c.threshold,
                "verdict": c.verdict.upper() if c.verdict == "regressed" else c.verdict,
            }
        )
    return pd.DataFrame(rows)


def _p_cell(change: Change) -> str:
    if change.p_value is None or change.p_adjusted is None:
        return f"— ({change.test}: no spread)"
    return f"{change.p_value:.3g} ({change.p_adjusted:.3g}) {change.test}"


def run(args: argparse.Namespace) -> int:
    """Compare and print; the exit code is the verdict."""
    try:
        if args.history:
            if args.b is not None:
                raise UserError(
                    "with --history give one results argument, the candidate "
                    "(joulebench compare --history results/ --last 10 candidate.json)"
                )
            changes, notes = compare_history(
                args.history,
                args.a,
                last=args.last,
                thresholds=args.fail_on or DEFAULT_THRESHOLDS,
                correction=args.correction,
            )
        elif args.b is None:
            raise UserError("give two results (A B), or --history DIR and one candidate")
        else:
            changes, notes = compare(
                args.a,
                args.b,
                args.fail_on or DEFAULT_THRESHOLDS,
                allow_different_hardware=args.allow_different_hardware,
                allow_different_settings=args.allow_different_settings,
                correction=args.correction,
            )
    except JoulebenchError as exc:
        print(f"joulebench: error: {exc}", file=sys.stderr)
        return 2
    regressed = [c for c in changes if c.verdict == "regressed"]
    if args.format == "json":
        print(
            json.dumps(
                {
                    "changes": changes_to_dicts(changes),
                    "notes": notes,
                    "correction": args.correction,
                    "regressed": len(regressed),
                },
                indent=1,
            )
        )
    else:
        table = changes_table(changes)
        summary = (
            f"{len(regressed)} regression(s): "
            + ", ".join(f"{c.variant} {c.metric}" for c in regressed)
            if regressed
            else "no regression beyond thresholds and noise"
        )
        if args.format == "md":
            print(f"### joulebench compare\n\n{markdown_table(table)}\n**{summary}**\n")
            for note in notes:
                print(f"- {note}")
        else:
            title = (
                f"joulebench compare: last {args.last} runs in {args.history} -> {args.a}"
                if args.history
                else f"joulebench compare: {args.a} -> {args.b}"
            )
            print(format_frame(table, title, optional=("A", "B", "threshold")))
            for note in notes:
                print(f"note: {note}")
            print(summary)
    return 1 if regressed else 0
