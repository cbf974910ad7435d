"""Measure variants, save the run, write the report, print the table: shared by demo and run."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd

from joulebench.cli.common import progress_printer
from joulebench.cli.format import format_frame
from joulebench.cli.progress import PlainLog, RunProgress
from joulebench.cli.report import write_report
from joulebench.harness.runner import Event
from joulebench.harness.stages import StageTimes, timed_stage
from joulebench.harness.variant_run import VariantFailure, VariantRun, run_variants
from joulebench.results.frame import read_document
from joulebench.results.store import save_variants
from joulebench.tasks.base import Task
from joulebench.variants.spec import VariantSpec


def measure_save_report(
    specs: Sequence[VariantSpec],
    task: Task,
    *,
    out: Path,
    reports: Path,
    battery: str,
    title: str,
    on_event: Callable[[Event], None],
    extra: dict[str, Any],
    build_failures: Sequence[VariantFailure] = (),
    wide: bool = False,
    **run_options: Any,
) -> tuple[VariantRun, Path, Path, str]:
    """Run the variants, save the document, write the report; return them and a text table.

    ``build_failures`` (variants that could not be built) are recorded with the run's own;
    ``wide``: the printed table keeps every column however narrow the terminal.
    """
    variant_run = run_variants(specs, task, on_event=on_event, **run_options)
    variant_run.failures[:0] = list(build_failures)
    if isinstance(on_event, StageTimes):  # where the time went, up to here, with the results
        extra = {**extra, "stages": on_event.rows()}
    with timed_stage(on_event, "save the results and write the report"):
        path = save_variants(variant_run, out, task=task.describe(), extra=extra)
        reports_written, table = write_report(path, reports, battery, title, wide=wide)
    report = reports_written[0]
    return variant_run, path, report, table


@contextmanager
def progress_for(
    quiet: bool, variants: int, windows: int, repeat: int = 1, kinds: int = 1
) -> Iterator[StageTimes]:
    """Progress bars on stderr; plain log lines when stderr is not a terminal (CI, a file, a
    pipe); or (``quiet``) only the lines a reader must see. Yields the ``on_event`` callback,
    which also keeps where the time went (:class:`StageTimes`). ``kinds``: windows per variant
    per round (2 for a generation task: full and prefill)."""
    display: AbstractContextManager[Any]
    if quiet:
        display = nullcontext(progress_printer(quiet=True))
    elif not sys.stderr.isatty():
        display = PlainLog(variants, windows, repeat=repeat, kinds=kinds)
    else:
        display = RunProgress(variants, windows, repeat=repeat, kinds=kinds)
    with display as events:
        yield StageTimes(events)


def window_kinds(task: object) -> int:
    """Windows per variant per round: full and prefill for a generation task, else one."""
    from joulebench.tasks.generation import Generation

    return 2 if isinstance(task, Generation) else 1


def stage_table(stages: StageTimes) -> str:
    """Where the time went, as a text table."""
    rows = [
        {"stage": r["stage"], "seconds": f"{r['seconds']:,.1f}", "share": f"{r['share']:.0%}"}
        for r in stages.rows()
    ]
    return format_frame(pd.DataFrame(rows), "Where the time went (wall time)")


def print_outcome(
    variant_run: VariantRun,
    table: str,
    path: Path,
    report: Path,
    *,
    as_json: bool = False,
    quiet: bool = False,
    stages: StageTimes | None = None,
) -> int:
    """Print the table (or the results document as JSON), each failure as an error line, and
    the paths (``quiet``: only the error lines), and where the time went (``stages``); exit 1
    if a variant failed, 130 if Ctrl-C cut the windows short."""
    if as_json:
        document = read_document(path)
        if stages is not None:  # the file holds them up to the report; this adds the report
            document["stages"] = stages.rows()
        print(json.dumps(document, indent=1))
    elif not quiet:
        print(table)
        if stages is not None:
            print(stage_table(stages))
    for failure in variant_run.failures:
        print(f"joulebench: error: {failure.line}", file=sys.stderr)
    if not as_json and not quiet:
        print(f"Results: {path}")
        print(f"Report:  {report}")
    if variant_run.interrupted:
        print(
            f"joulebench: interrupted: the windows taken so far are saved in {path} "
            "(flagged 'interrupted')",
            file=sys.stderr,
        )
    return variant_run.exit_code
