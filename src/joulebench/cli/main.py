"""The ``joulebench`` command: subcommands, and the one place errors become exit codes.

A :class:`~joulebench.errors.JoulebenchError` becomes one line on stderr and exit 1; Ctrl-C
becomes exit 130. Neither prints a traceback (set JOULEBENCH_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from joulebench import __version__
from joulebench.cli import (
    batteries,
    build,
    cache,
    calibrate,
    compare,
    demo,
    fleet,
    history,
    import_log,
    import_readings,
    measure,
    meters,
    record,
    report,
    run,
)
from joulebench.errors import JoulebenchError

SUBCOMMANDS = (
    demo, run, build, meters, measure, record, import_readings, import_log, report, compare,
    history, batteries, calibrate, cache, fleet,
)  # fmt: skip


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 1 like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(1)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = _Parser(
        prog="joulebench",
        description="Energy per inference you can trust, with its uncertainty.",
    )
    parser.add_argument("--version", action="version", version=f"joulebench {__version__}")
    subparsers = parser.add_subparsers(dest="subcommand", metavar="COMMAND", parser_class=_Parser)
    for module in SUBCOMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            parser.print_help()
            return 1
        return int(args.run(args))
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 1
    except JoulebenchError as exc:
        if os.environ.get("JOULEBENCH_DEBUG"):
            raise
        print(f"joulebench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(
            "joulebench: interrupted: nothing was saved for this run; "
            "earlier results are untouched",
            file=sys.stderr,
        )
        return 130


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
