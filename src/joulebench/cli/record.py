"""``joulebench record --device pixel7 --variant int8``: read a meter by hand, one window at a time.

For a device joulebench cannot run on (a phone, a small board): start the workload there, type
the meter's counter reading, wait for the bell, type the reading again and the inferences run.
Each window is saved at once; after an interruption, ``--resume`` continues where it stopped.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from joulebench.cli.manual_common import add_manual_options, print_saved
from joulebench.errors import UserError
from joulebench.harness.manual_run import manual_results
from joulebench.harness.recording import (
    Progress,
    RecordingPlan,
    Session,
    load_progress,
    progress_path,
)
from joulebench.results.external import build_external_document
from joulebench.results.store import ensure_writable, write_document


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "record",
        help="record a hand-held meter's readings interactively, one window at a time",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_manual_options(parser)
    parser.add_argument("--variant", required=True, help="the variant running on the device")
    parser.add_argument(
        "--meter",
        default="manual",
        choices=("manual",),
        help="manual (a person reads the meter; the only choice here)",
    )
    parser.add_argument(
        "--form",
        default="counter",
        choices=("counter", "average"),
        help="counter: start and end readings of the meter's energy/charge counter (best); "
        "average: the average watts it showed (lowest confidence)",
    )
    parser.add_argument("--unit", default="mWh", help="counter unit (default mWh; J, Wh, mAh, µAh)")
    parser.add_argument(
        "--voltage-v", type=float, default=None, help="bus voltage for charge units (mAh)"
    )
    parser.add_argument(
        "--resolution", type=float, default=None, help="the counter's smallest step, in --unit"
    )
    parser.add_argument("--windows", type=int, default=5, help="windows to record (default 5)")
    parser.add_argument(
        "--idle-windows", type=int, default=2, help="idle windows for net figures (default 2)"
    )
    parser.add_argument(
        "--window-s", type=float, default=60.0, help="length of each window (default 60 s)"
    )
    parser.add_argument(
        "--inferences", type=int, default=None, help="inferences per window, if always the same"
    )
    parser.add_argument("--resume", action="store_true", help="continue an interrupted recording")
    parser.add_argument(
        "--restart", action="store_true", help="discard an unfinished recording and start over"
    )
    parser.set_defaults(run=run)


def _ask(prompt: str) -> str:
    try:
        return input(prompt)
    except EOFError:
        raise UserError("input ended before the recording was complete") from None


def run(args: argparse.Namespace) -> int:
    """Record (or resume), then save the run document and print its table."""
    ensure_writable(Path(args.out))
    path = progress_path(args.out, args.device, args.variant)
    if path.exists() and not (args.resume or args.restart):
        done = len(load_progress(path).windows)
        raise UserError(
            f"a recording of {args.variant} on {args.device} is unfinished ({done} window(s) in "
            f"{path}); add --resume to continue it or --restart to discard it"
        )
    if args.resume and path.exists():
        progress = load_progress(path)
        print(f"Resuming: {len(progress.windows)} window(s) already recorded in {path}")
    elif args.resume:
        raise UserError(f"nothing to resume: no unfinished recording at {path}")
    else:
        counts = args.counts or ("down" if args.scope == "battery" else "up")
        plan = RecordingPlan(
            device=args.device, variant=args.variant, form=args.form, unit=args.unit,
            voltage_v=args.voltage_v, counts=counts, scope=args.scope,
            resolution=args.resolution, windows=args.windows, idle_windows=args.idle_windows,
            window_s=args.window_s, inferences=args.inferences,
        )  # fmt: skip
        progress = Progress(plan)
    session = Session(progress, path, ask=_ask, say=lambda text: print(text, flush=True))
    try:
        session.run()
    except (KeyboardInterrupt, UserError) as exc:
        saved = len(progress.windows)
        why = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
        print(
            f"joulebench: {why}: {saved} window(s) are saved in {path}; continue with the same "
            "command and --resume",
            file=sys.stderr,
        )
        return 130 if isinstance(exc, KeyboardInterrupt) else 1
    plan = progress.plan
    results = manual_results(
        progress.items(), scope=plan.scope, device=plan.device, source=f"recording {path.name}",
        accuracy=args.meter_accuracy,
    )  # fmt: skip
    document, missing = build_external_document(
        results,
        device=plan.device,
        accuracy_from=args.accuracy_from,
        extra={"entered": "record", "plan": asdict(plan)},
    )
    saved_path = write_document(document, args.out)
    path.unlink(missing_ok=True)
    print_saved(saved_path, args.battery, missing, args.accuracy_from)
    return 0
