"""``joulebench measure -- CMD ...``: energy of a whole command, gross and net, with its interval.

Each call of the workload is one run of the command; windows hold as many runs as reach
``--min-window-s``. The command's own output is discarded; a failing run stops everything.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from joulebench.cli.common import (
    add_meter_options,
    add_protocol_options,
    add_provenance_options,
    apply_provenance,
    meter_options,
    progress_printer,
    protocol_values,
)
from joulebench.cli.format import format_results
from joulebench.errors import UserError, WorkloadError
from joulebench.harness.runner import measure
from joulebench.results.store import build_document, ensure_writable, write_document

STDERR_TAIL_CHARS = 400


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "measure",
        help="measure the energy of a command: joulebench measure -- python my_infer.py",
        description="Energy of a whole command, gross and net of idle, with a 95%% interval.",
    )
    add_meter_options(parser)
    add_protocol_options(parser, warmup_calls=1, warmup_s=0.0)
    add_provenance_options(parser)
    parser.add_argument(
        "--label", default=None, help="name of this measurement (default: the command)"
    )
    parser.add_argument("--out", default="results", help="results folder (default ./results)")
    parser.add_argument("--no-save", action="store_true", help="do not write a results file")
    parser.add_argument("--json", action="store_true", help="print the results document as JSON")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    parser.set_defaults(run=run)


def command_workload(command: Sequence[str]) -> Callable[[int], None]:
    """``workload(n)`` that runs ``command`` n times, failing on a non-zero exit."""
    shown = shlex.join(command)

    def run(n: int) -> None:
        for _ in range(n):
            try:
                done = subprocess.run(
                    command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
                )
            except FileNotFoundError:
                raise UserError(
                    f"command not found: {command[0]!r}; check the command after --"
                ) from None
            except PermissionError:
                raise UserError(
                    f"command {command[0]!r} is not executable (permission denied)"
                ) from None
            if done.returncode != 0:
                tail = done.stderr.decode(errors="replace").strip()[-STDERR_TAIL_CHARS:]
                tail = " ".join(tail.split())
                raise WorkloadError(
                    f"command `{shown}` exited with {done.returncode}"
                    + (f" ({tail})" if tail else "")
                    + "; make it succeed on its own first"
                )

    return run


def run(args: argparse.Namespace) -> int:
    """Measure the command and print (and save) the result."""
    apply_provenance(args)
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UserError("no command to measure; usage: joulebench measure [options] -- CMD ARGS...")
    if not args.no_save:
        ensure_writable(Path(args.out))  # before spending minutes measuring
    label = args.label or Path(command[0]).name
    result = measure(
        command_workload(command),
        args.meter,
        label=label,
        meter_options=meter_options(args),
        on_event=progress_printer(quiet=args.json),
        **protocol_values(args),
    )
    document = build_document(result, extra={"command": command})
    path = None if args.no_save else write_document(document, args.out)
    if args.json:
        print(json.dumps(document, indent=1))
    else:
        print(format_results([result]))
        if path is not None:
            print(f"Saved: {path}")
    if result.interrupted:
        where = f"saved in {path}" if path else "not saved (--no-save)"
        print(
            f"joulebench: interrupted: the windows taken so far are {where} "
            "(flagged 'interrupted')",
            file=sys.stderr,
        )
        return 130
    if result.net_error and result.idle_power_w is not None:
        # The net figure is refused (never shown as a number); gross stands, so exit 0.
        print(f"joulebench: warning: no net figure: {result.net_error}", file=sys.stderr)
    return 0
