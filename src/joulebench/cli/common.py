"""Options shared by the subcommands that measure: meter choice and protocol settings."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from joulebench.errors import UserError
from joulebench.harness.runner import Event
from joulebench.provenance import BRANCH_ENV, COMMIT_ENV


def parse_fraction(text: str) -> float:
    """``2%`` or ``0.02`` -> 0.02."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction like 2% or 0.02") from None
    return value


def add_meter_options(parser: argparse.ArgumentParser) -> None:
    """--meter and the options of particular meters."""
    group = parser.add_argument_group("meter")
    group.add_argument(
        "--meter", default="auto", help="auto (default), rapl, nvml, estimate or simulated"
    )
    group.add_argument(
        "--cpu-watts",
        type=float,
        default=None,
        help="estimate meter: watts per busy core (default 5)",
    )
    group.add_argument(
        "--idle-watts",
        type=float,
        default=None,
        help="estimate meter: idle watts of the machine (default 1 per core)",
    )
    group.add_argument(
        "--sim-watts",
        type=float,
        default=None,
        help="simulated meter: the constant power it replays (default 15)",
    )
    group.add_argument(
        "--gpu",
        type=int,
        action="append",
        default=None,
        help="nvml meter: GPU index to measure (repeat for several; default all)",
    )


def add_protocol_options(
    parser: argparse.ArgumentParser, *, warmup_calls: int = 10, warmup_s: float = 3.0
) -> None:
    """The measurement protocol's settings."""
    group = parser.add_argument_group("protocol")
    group.add_argument("--windows", type=int, default=5, help="windows per workload (default 5)")
    group.add_argument(
        "--min-window-s",
        type=float,
        default=None,
        help="shortest window in seconds (default: the meter's, e.g. RAPL 2, NVML 10)",
    )
    group.add_argument(
        "--warmup-calls",
        type=int,
        default=warmup_calls,
        help=f"calls before measuring (default {warmup_calls})",
    )
    group.add_argument(
        "--warmup-s",
        type=float,
        default=warmup_s,
        help=f"seconds of warm-up at least (default {warmup_s:g})",
    )
    group.add_argument(
        "--no-idle", action="store_true", help="skip idle windows (then no net figure)"
    )
    group.add_argument(
        "--target-ci",
        type=parse_fraction,
        default=None,
        help="plan windows so the 95%% half-width is under this, e.g. 2%% (Stein's two-stage "
        "rule: a pilot of max(--windows, 10) windows, then as many as the pilot says)",
    )
    group.add_argument(
        "--pilot-windows",
        type=int,
        default=None,
        help="pilot windows for --target-ci (default max(--windows, 10)); 5 suits a loose "
        "target such as 5%%",
    )
    group.add_argument(
        "--max-time-s", type=float, default=600.0, help="time cap for --target-ci (default 600)"
    )
    group.add_argument(
        "--max-windows",
        type=int,
        default=200,
        help="window cap per workload for --target-ci (default 200)",
    )
    group.add_argument(
        "--settle-s",
        type=float,
        default=0.0,
        help="fixed pause before each window, on top of the random 0-0.2 s sleep (default 0)",
    )
    group.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the window order and pre-window sleeps (default: drawn, and recorded)",
    )
    group.add_argument(
        "--max-foreign-cores",
        type=parse_foreign_cores,
        default=0.5,
        metavar="CORES",
        help="a window during which other programs kept more CPU cores than this busy (on "
        "average) is retaken, then flagged contaminated (default 0.5; 'off' records the load "
        "and judges nothing)",
    )


def parse_foreign_cores(text: str) -> float | None:
    """``--max-foreign-cores``: a number of cores >= 0, or ``off``."""
    if text.strip().lower() in ("off", "none"):
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of CPU cores >= 0, or off")
    return value


def meter_options(args: argparse.Namespace) -> dict[str, Any]:
    """Constructor options for the meter named in ``args`` (refusing ones it does not take)."""
    name = args.meter.strip().lower()
    given = {
        "cpu_w_per_core": ("estimate", args.cpu_watts, "--cpu-watts"),
        "idle_w": ("estimate", args.idle_watts, "--idle-watts"),
        "power_w": ("simulated", args.sim_watts, "--sim-watts"),
        "devices": ("nvml", args.gpu, "--gpu"),
    }
    options: dict[str, Any] = {}
    for key, (owner, value, flag) in given.items():
        if value is None:
            continue
        if name == owner or (name == "auto" and owner == "estimate"):
            options[key] = value
        else:
            raise UserError(f"{flag} is for --meter {owner}, not --meter {args.meter}")
    return options


def protocol_values(args: argparse.Namespace) -> dict[str, Any]:
    """ProtocolSettings keywords from ``args``."""
    return {
        "windows": args.windows,
        "min_window_s": args.min_window_s,
        "warmup_calls": args.warmup_calls,
        "warmup_s": args.warmup_s,
        "idle": not args.no_idle,
        "target_ci": args.target_ci,
        "max_time_s": args.max_time_s,
        "max_windows": args.max_windows,
        "pilot_windows": args.pilot_windows,
        "settle_s": args.settle_s,
        "seed": args.seed,
        "max_foreign_cores": args.max_foreign_cores,
    }


def progress_printer(quiet: bool = False) -> Any:
    """An on_event callback that prints progress lines to stderr."""

    def on_event(event: Event) -> None:
        if quiet and event.kind not in ("meter", "discarded", "contaminated"):
            return
        where = f"[{event.label}] " if event.label else ""
        print(f"joulebench: {where}{event.kind}: {event.message}", file=sys.stderr, flush=True)

    return on_event


def add_provenance_options(parser: argparse.ArgumentParser) -> None:
    """--commit and --branch: the code being measured, where the folder has no .git."""
    parser.add_argument(
        "--commit",
        default=None,
        help="the commit being measured, recorded with the results (default: git in this "
        "folder, else the CI system's variables)",
    )
    parser.add_argument(
        "--branch", default=None, help="the branch being measured (default: as --commit)"
    )


def apply_provenance(args: argparse.Namespace) -> None:
    """Make --commit/--branch what every results document of this process records."""
    for value, variable in ((args.commit, COMMIT_ENV), (args.branch, BRANCH_ENV)):
        if value:
            os.environ[variable] = value
