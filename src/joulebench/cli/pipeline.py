"""Measure variants, save the run, write the report, print the table: shared by demo and run."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from joulebench.cli.report import write_report
from joulebench.harness.runner import Event
from joulebench.harness.variant_run import VariantRun, run_variants
from joulebench.results.store import save_variants
from joulebench.tasks.text_classification import TextClassification
from joulebench.variants.spec import VariantSpec


def measure_save_report(
    specs: Sequence[VariantSpec],
    task: TextClassification,
    *,
    out: Path,
    reports: Path,
    battery: str,
    title: str,
    on_event: Callable[[Event], None],
    extra: dict[str, Any],
    **run_options: Any,
) -> tuple[VariantRun, Path, Path, str]:
    """Run the variants, save the document, write the report; return them and a text table."""
    variant_run = run_variants(specs, task, on_event=on_event, **run_options)
    split = task.split()
    path = save_variants(
        variant_run,
        out,
        task={
            "name": task.name,
            "data": task.data.source,
            "train": len(split.train),
            "test": len(split.test),
            "labels": list(task.data.label_names),
        },
        extra=extra,
    )
    report, table = write_report(path, reports, battery, title)
    return variant_run, path, report, table


def print_outcome(variant_run: VariantRun, table: str, path: Path, report: Path) -> int:
    """Print the table, each failure as an error line, the paths; exit 1 if a variant failed."""
    print(table)
    for failure in variant_run.failures:
        print(
            f"joulebench: error: variant {failure.name!r} failed: {failure.error}", file=sys.stderr
        )
    print(f"Results: {path}")
    print(f"Report:  {report}")
    return 1 if variant_run.failures else 0
