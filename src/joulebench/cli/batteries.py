"""``joulebench batteries``: the named battery profiles and what each assumes."""

from __future__ import annotations

import argparse
import json

import pandas as pd

from joulebench.batteries import PROFILES
from joulebench.cli.format import format_frame


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser("batteries", help="list the battery profiles and assumptions")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the profiles."""
    rows = [
        {
            "name": b.name,
            "capacity_wh": round(b.capacity_wh, 4),
            "usable_fraction": b.usable_fraction,
            "path_efficiency": b.path_efficiency,
            "usable_energy_j": round(b.usable_energy_j, 1),
            "assumption": b.note,
        }
        for b in PROFILES.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(format_frame(pd.DataFrame(rows).astype(str), "Battery profiles"))
    print(
        "Custom: --battery custom:5000mAh@3.85V, custom:50Wh, or with a conversion efficiency "
        "custom:10000mAh@3.7Vx0.85. Inferences per charge = usable energy / gross J per inference."
    )
    return 0
