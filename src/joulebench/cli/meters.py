"""``joulebench meters``: every meter, available or not; if not, why and the fix."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from joulebench.cli.format import format_meters
from joulebench.devices.registry import probe_all


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser("meters", help="list energy meters and whether they work here")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the meters table (or JSON)."""
    rows = probe_all()
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=1))
    else:
        print(format_meters(rows))
    return 0
