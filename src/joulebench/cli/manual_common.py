"""Options and output shared by the manual-meter subcommands (import-readings, record)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from joulebench.cli.format import format_frame
from joulebench.devices.base import MeterAccuracy
from joulebench.devices.manual import MANUAL_ACCURACY, parse_accuracy
from joulebench.errors import UserError
from joulebench.reports.tables import figures_table
from joulebench.results.frame import load, read_document

SCOPES = ("usb", "wall", "battery", "dc")


def add_meter_accuracy(parser: argparse.ArgumentParser) -> None:
    """--meter-accuracy: the meter's own accuracy from its manual."""
    parser.add_argument(
        "--meter-accuracy",
        type=accuracy_value,
        default=MANUAL_ACCURACY,
        help="the meter's accuracy from its manual, e.g. 1%% or 0.5%%+0.01W: shown as a "
        "systematic bound beside the statistical ± (default: not stated)",
    )


def accuracy_value(text: str) -> MeterAccuracy:
    """``--meter-accuracy`` parsed, or an argparse error."""
    try:
        return parse_accuracy(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_manual_options(parser: argparse.ArgumentParser) -> None:
    """--device, --scope, --counts, --accuracy-from, --meter-accuracy, --battery, --tz, --out."""
    add_meter_accuracy(parser)
    parser.add_argument(
        "--device", required=True, help="the device measured (e.g. pixel7, rpi5, this-laptop)"
    )
    parser.add_argument(
        "--scope",
        default="usb",
        choices=SCOPES,
        help="what the meter measured: usb (USB meter, default), wall (plug meter), battery "
        "(the phone's own counter), dc (a multimeter in series)",
    )
    parser.add_argument(
        "--counts",
        choices=("up", "down"),
        default=None,
        help="counter direction: up (a meter's accumulator; default) or down (a battery's "
        "remaining charge; the default for --scope battery)",
    )
    parser.add_argument(
        "--accuracy-from",
        default=None,
        help="a results file or folder with the same variants' accuracy (measured elsewhere)",
    )
    parser.add_argument(
        "--battery", default="phone", help="battery for the printed table (default phone)"
    )
    parser.add_argument(
        "--tz", default=None, help="time zone of naive timestamps (default: this machine's)"
    )
    parser.add_argument("--out", default="results", help="results folder (default ./results)")


def offset_value(text: str) -> float | str:
    """``--clock-offset-s``: seconds, or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds or 'auto'") from None


def add_log_options(parser: argparse.ArgumentParser, clock: str, auto: bool = False) -> None:
    """--clock-offset-s and --battery-log, for the commands that read a meter's log."""
    parser.add_argument(
        "--clock-offset-s",
        type=offset_value if auto else float,
        default=0.0,
        help=f"added to the log's times to put them on {clock}; for a log of elapsed "
        "seconds, the Unix time it started (default 0)"
        + (
            "; 'auto' finds it from the log: the offset at which its power steps line up "
            "with the run's windows (recorded in the result)"
            if auto
            else ""
        ),
    )
    parser.add_argument(
        "--battery-log",
        action="store_true",
        help="the log is a phone's own battery log (Android current_now in µA, negative while "
        "discharging, with voltage_now): power is -V x I, and charging voids a window",
    )


def print_saved(path: Path, battery: str, missing: list[str], accuracy_from: str | None) -> None:
    """The saved document's figures as a table, its path, and what has no accuracy."""
    frame = load(path, battery=battery)
    table = figures_table(frame)
    table = table.loc[:, [not (table[c] == "—").all() for c in table.columns]]  # nothing to show
    print(format_frame(table, f"Readings on {frame['machine'].iloc[0]}"))
    print(f"Saved: {path}")
    for measurement in read_document(path)["measurements"]:
        for flag in measurement["flags"]:
            print(
                f"joulebench: note: [{measurement['label']}] {flag['code']}: {flag['message']}",
                file=sys.stderr,
            )
    if missing:
        where = f"in {accuracy_from}" if accuracy_from else "(no --accuracy-from given)"
        print(
            f"joulebench: note: no accuracy {where} for {', '.join(missing)}: they appear in "
            "tables but not on the accuracy plot",
            file=sys.stderr,
        )
