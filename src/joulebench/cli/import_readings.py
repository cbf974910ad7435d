"""``joulebench import-readings TABLE --device NAME``: a person's meter readings as a run.

One row per window: the variant, the inferences it ran, and a reading (counter start and end,
the energy used, or the average watts shown) with the window's duration. ``idle`` rows give
net figures. Accuracy is joined from a run that measured the same variants (``--accuracy-from``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from joulebench.cli.manual_common import add_log_options, add_manual_options, print_saved
from joulebench.devices.meterlog import read_log
from joulebench.devices.readings import read_readings
from joulebench.harness.manual_run import manual_results
from joulebench.results.external import build_external_document
from joulebench.results.store import ensure_writable, write_document

LAYOUT = """\
table layout (CSV; comma, semicolon or tab; units may ride in headers):
  variant,inferences,start (mWh),end (mWh),duration_s
  int8,2000,1041.2,1046.9,95.3
  idle,0,1046.9,1048.1,60.0
other forms: an energy column (energy_J: the difference), or a power column (power_W: the
average watts shown); optional columns: unit, voltage_v (for mAh), charging (yes voids a row),
start_time and end_time (instead of duration_s). With --log METER.csv, a row with only
start_time and end_time gets its energy from the meter's log over that window:
  variant,inferences,start_time,end_time
  int8,2000,2026-11-20 14:03:10,2026-11-20 14:04:12"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "import-readings",
        help="import meter readings taken by hand (a phone, a board) as a run",
        description=__doc__,
        epilog=LAYOUT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("table", help="the readings table (CSV)")
    add_manual_options(parser)
    parser.add_argument(
        "--unit", default=None, help="counter unit where the table gives none (mWh, J, mAh, µAh)"
    )
    parser.add_argument(
        "--voltage-v", type=float, default=None, help="bus voltage for charge units (mAh, µAh)"
    )
    parser.add_argument(
        "--resolution",
        type=float,
        default=None,
        help="the counter's smallest step in its unit (e.g. 1 for whole mWh): short windows "
        "are flagged",
    )
    parser.add_argument(
        "--log",
        default=None,
        help="a USB/plug meter's log (CSV): rows with start_time and end_time get their "
        "energy from it",
    )
    add_log_options(parser, "the table's clock")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Read the table, summarise each variant, join accuracy, save and print."""
    ensure_writable(Path(args.out))
    counts = args.counts or ("down" if args.scope == "battery" else "up")
    rows = read_readings(
        args.table,
        unit=args.unit,
        voltage_v=args.voltage_v,
        counts=counts,
        scope=args.scope,
        resolution=args.resolution,
        tz=args.tz,
        log=read_log(args.log, tz=args.tz, battery=args.battery_log) if args.log else None,
        clock_offset_s=args.clock_offset_s,
    )
    results = manual_results(
        rows, scope=args.scope, device=args.device, source=args.table,
        accuracy=args.meter_accuracy,
    )  # fmt: skip
    document, missing = build_external_document(
        results,
        device=args.device,
        accuracy_from=args.accuracy_from,
        extra={"readings": str(args.table), "entered": "import-readings"},
    )
    path = write_document(document, args.out)
    print_saved(path, args.battery, missing, args.accuracy_from)
    for row in rows:
        if row.reading is None:
            print(f"joulebench: warning: {row.void_reason}", file=sys.stderr)
    return 0
