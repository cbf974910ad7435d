"""``joulebench calibrate RUN LOG --name NAME``: whole-device power from a counter, fitted once.

Measure a run with RAPL or NVML (variants of different load, idle windows included: e.g.
``joulebench demo --meter rapl``) while a wall or USB meter logs the whole machine; then fit
``whole = a x component + b`` over the run's windows. The profile is saved per machine
fingerprint; ``joulebench report results/ --calibration NAME`` then adds whole-device
(calibrated) energy and inferences per charge, their intervals widened by the fit's own.
"""

from __future__ import annotations

import argparse
import json

from joulebench.calibration import calibrate, calibrations_root, save
from joulebench.cli.manual_common import SCOPES, add_log_options
from joulebench.devices.meterlog import read_log
from joulebench.results.frame import read_document


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "calibrate",
        help="fit whole-device power = a x counter + b from a run and a wall/USB meter's log",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_file", metavar="RUN", help="a run measured with rapl or nvml (JSON)")
    parser.add_argument("log", metavar="LOG", help="the wall/USB meter's log of the same run")
    parser.add_argument("--name", required=True, help="the profile's name (e.g. wall-meter)")
    parser.add_argument(
        "--scope", default="wall", choices=SCOPES, help="what the meter measured (default wall)"
    )
    parser.add_argument(
        "--tz", default=None, help="time zone of the log's naive timestamps (default: local)"
    )
    parser.add_argument(
        "--calibrations",
        default=None,
        help="folder of calibration profiles (default: the user's data folder)",
    )
    parser.add_argument(
        "--replace", action="store_true", help="replace an existing profile of that name"
    )
    parser.add_argument("--json", action="store_true", help="print the profile as JSON")
    add_log_options(parser, "the run's clock", auto=True)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Fit, save and print the calibration."""
    document = read_document(args.run_file)
    log = read_log(args.log, tz=args.tz, battery=args.battery_log)
    calibration = calibrate(
        document,
        log,
        name=args.name,
        whole_scope=args.scope,
        clock_offset_s=args.clock_offset_s,
        source=str(args.run_file),
    )
    path = save(calibration, calibrations_root(args.calibrations), replace=args.replace)
    if args.json:
        print(json.dumps(calibration.to_dict(), indent=1))
        return 0
    print(f"Calibration {calibration.name!r} for {calibration.machine_id}:")
    print(f"  {calibration.describe()}")
    print(f"Saved: {path}")
    print(f"Use it: joulebench report results/ --calibration {calibration.name}")
    return 0
