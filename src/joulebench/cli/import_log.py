"""``joulebench import-log LOG --run RUN.json``: a run's energy remade from a meter's own log.

Run joulebench on the device (any meter; windows of at least 20 log samples, e.g.
``--min-window-s 30`` for a 1 Hz USB meter) while the USB or plug meter logs, then import the
meter's CSV: each window's energy is the log integrated over the window's recorded start and
end. A new results file is written beside the run; the run itself is untouched.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from joulebench.cli.format import format_frame
from joulebench.cli.manual_common import SCOPES, add_log_options, add_meter_accuracy
from joulebench.reports.tables import figures_table
from joulebench.results.frame import load
from joulebench.results.from_log import document_from_log
from joulebench.results.store import ensure_writable, write_document


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "import-log",
        help="remake a run's energy from a USB/plug meter's log (CSV), aligned to its windows",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("log", help="the meter's log (CSV: a time column and W, or V and A)")
    parser.add_argument(
        "--run", dest="run_file", required=True, help="the run's results file (JSON)"
    )
    parser.add_argument(
        "--tz", default=None, help="time zone of the log's naive timestamps (default: local)"
    )
    parser.add_argument(
        "--scope", default="usb", choices=SCOPES, help="what the meter measured (default usb)"
    )
    parser.add_argument("--battery", default="phone", help="battery for the printed table")
    parser.add_argument("--out", default="results", help="results folder (default ./results)")
    add_log_options(parser, "the run's clock", auto=True)
    add_meter_accuracy(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Integrate the log over the run's windows; save a new document and print its figures."""
    ensure_writable(Path(args.out))
    document = document_from_log(
        args.run_file,
        args.log,
        clock_offset_s=args.clock_offset_s,
        tz=args.tz,
        scope=args.scope,
        battery_log=args.battery_log,
        accuracy=args.meter_accuracy,
    )
    path = write_document(document, args.out)
    frame = load(path, battery=args.battery)
    print(format_frame(figures_table(frame), f"Energy from {args.log}"))
    estimate = document["extra"].get("clock_offset_estimated")
    if estimate:
        print(
            f"Clock offset found from the log: {estimate['offset_s']:+.2f} s "
            f"(± {estimate['resolution_s']:.2g} s; the windows explain "
            f"{estimate['explained']:.0%} of the log's variation)"
        )
    print(f"Saved: {path}")
    return 0
