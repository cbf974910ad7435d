"""``joulebench run experiment.toml``: measure the variants an experiment file lists.

Every window is journalled as it is taken (``<out>/unfinished/<experiment>-<time>.journal.jsonl``,
``harness.journal``); the journal is removed once the run's document is written. A run that
was killed (``kill -9``, a power cut, a lost node) leaves its journal, and
``joulebench run --resume JOURNAL`` loads the variants again and measures only the windows
that are missing.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from joulebench.cli.common import add_provenance_options, apply_provenance
from joulebench.cli.fleet_run import FLEET_SUFFIX, read_fleet_record, run_fleet, start_fleet_run
from joulebench.cli.pipeline import (
    measure_save_report,
    print_outcome,
    progress_for,
    window_kinds,
)
from joulebench.config import Experiment, load_experiment
from joulebench.devices.registry import check_meter_name
from joulebench.errors import JoulebenchError, UserError
from joulebench.harness.journal import SUFFIX, UNFINISHED, Journal, JournalState, read_journal
from joulebench.harness.machine import fingerprint, machine_id
from joulebench.results.store import ensure_writable
from joulebench.tasks.configured import task_from_config
from joulebench.variants.spec import sweep


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser("run", help="measure the variants of an experiment file")
    parser.add_argument(
        "experiment", nargs="?", help="the experiment file (TOML); not needed with --resume"
    )
    parser.add_argument(
        "--resume",
        metavar="JOURNAL",
        help="finish a killed run: load its variants again and measure only the windows its "
        "journal (results/unfinished/*.journal.jsonl) does not hold; or a fleet run's "
        "record (*.fleet.json): its unfinished jobs run again",
    )
    parser.add_argument(
        "--executor",
        choices=("local", "ray", "slurm"),
        default=None,
        help="where to run: here (local, the default), or one job per [executor] target on a "
        "Ray cluster (ray) or Slurm (slurm; docs/fleet.md); default: the file's [executor] kind",
    )
    parser.add_argument(
        "--address",
        default=None,
        help="the Ray cluster's address (default: the file's, else auto)",
    )
    parser.add_argument(
        "--no-journal",
        action="store_true",
        help="do not journal the windows as they are taken (the run cannot be resumed)",
    )
    parser.add_argument("--out", default="results", help="results folder (default ./results)")
    parser.add_argument("--reports", default="reports", help="report folder (default ./reports)")
    parser.add_argument(
        "--meter",
        default=None,
        help="use this meter instead of the file's [meter] name (e.g. rapl on a CI runner)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        metavar="K",
        help="measure in K independent runs, each with fresh worker processes (default: the "
        "file's [run] repeat, else 1); K >= 3 lets compare judge changes against run-to-run "
        "spread, not only the windows of one run",
    )
    add_provenance_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bars; table and errors")
    parser.add_argument(
        "--wide", action="store_true", help="print every column, however wide the terminal"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results document as JSON (no progress bars)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the experiment (or the journal to resume), measure, save, report."""
    apply_provenance(args)
    resume: JournalState | None = None
    if args.resume and args.resume.endswith(FLEET_SUFFIX):
        return _resume_fleet(args)
    if args.resume:
        resume, experiment, out, reports, title = _resumed(args)
    else:
        if not args.experiment:
            raise UserError("give the experiment file (joulebench run experiment.toml)")
        experiment = _experiment(args)
        out, reports = ensure_writable(Path(args.out)), Path(args.reports)
        title = f"joulebench: {Path(args.experiment).name}"
        if (args.executor or experiment.executor.kind) != "local":
            return _start_fleet(args, experiment, out, reports, title)
    task = task_from_config(experiment.task)
    journal = _journal(args, experiment, out, reports, title, resume)
    quiet = args.quiet or args.json
    repeat = experiment.run.repeat
    specs = sweep(list(experiment.variants), experiment.run.batch_sizes)
    variants, windows = len(specs), experiment.protocol.windows
    kinds = window_kinds(task)
    try:
        with progress_for(quiet, variants, windows, repeat, kinds) as events:
            variant_run, path, report, table = measure_save_report(
                specs,
                task,
                out=out,
                reports=reports,
                battery=experiment.run.battery,
                title=title,
                on_event=events,
                extra={"experiment": experiment.model_dump(mode="json")},
                wide=args.wide,
                repeat=repeat,
                journal=journal,
                resume=resume,
                **experiment.run_options(),
            )
    except (JoulebenchError, KeyboardInterrupt):
        if journal is not None and read_journal(journal.path).window_count == 0:
            journal.remove()  # nothing measured: nothing to resume
        raise
    code = print_outcome(variant_run, table, path, report, as_json=args.json, stages=events)
    if journal is not None:
        if variant_run.interrupted:
            journal.partial(path)
            print(
                f"joulebench: the windows are journalled: finish the run with "
                f"joulebench run --resume {journal.path}",
                file=sys.stderr,
            )
        else:
            _set_aside(read_journal(journal.path).partials, out)
            journal.remove()  # the document holds every window now
    return code


def _set_aside(partials: list[str], out: Path) -> None:
    """Move the documents an interrupted run saved into ``<out>/unfinished/superseded/``: the
    finished run's document holds their windows, and a report must not count them twice."""
    aside = out / UNFINISHED / "superseded"
    for partial in map(Path, partials):
        if not partial.is_file():
            continue
        aside.mkdir(parents=True, exist_ok=True)
        target = aside / partial.name
        partial.replace(target)
        print(f"joulebench: {partial} (saved when the run was interrupted) is superseded by the "
              f"finished run's document; moved to {target}", file=sys.stderr)  # fmt: skip


def _start_fleet(
    args: argparse.Namespace, experiment: Experiment, out: Path, reports: Path, title: str
) -> int:
    """Run the experiment as jobs on a Ray cluster or Slurm (``cli.fleet_run``)."""
    update: dict[str, str] = {}
    if args.executor:
        update["kind"] = args.executor
    if args.address:
        update["address"] = args.address
    executor = experiment.executor.model_copy(update=update)
    experiment = experiment.model_copy(update={"executor": executor})
    if experiment.run.repeat > 1:
        raise UserError(
            f"--repeat is not supported with the {executor.kind} executor yet; use one run"
        )
    if args.json:
        raise UserError(
            "--json prints one document; a fleet run writes one per machine: read them with "
            "joulebench report or joulebench.results.load"
        )
    path, record = start_fleet_run(
        executor,
        Path(args.experiment).stem,
        out,
        reports,
        title,
        battery=experiment.run.battery,
        experiment=experiment.model_dump(mode="json"),
    )
    return run_fleet(path, record, quiet=args.quiet, wide=args.wide).exit_code


def _resume_fleet(args: argparse.Namespace) -> int:
    """Submit a fleet run's unfinished jobs again (each machine resumes its journal)."""
    if args.meter or args.repeat is not None or args.experiment:
        raise UserError(
            "--resume of a fleet run goes on with its record's experiment: give only --resume"
        )
    path = Path(args.resume)
    record = read_fleet_record(path)
    return run_fleet(path, record, quiet=args.quiet, wide=args.wide, fresh=False).exit_code


def _experiment(args: argparse.Namespace) -> Experiment:
    """The experiment file, with the command line's --meter and --repeat applied."""
    experiment = load_experiment(args.experiment)
    if args.meter:
        meter = experiment.meter.model_copy(update={"name": check_meter_name(args.meter)})
        experiment = experiment.model_copy(update={"meter": meter})
    if args.repeat is not None:
        if args.repeat < 1:
            raise UserError(f"--repeat {args.repeat}: give a whole number of runs, 1 or more")
        runs = experiment.run.model_copy(update={"repeat": args.repeat})
        experiment = experiment.model_copy(update={"run": runs})
    return experiment


def this_machine() -> str:
    """This machine's id as a journal records it (CPU, cores, memory; no GPU probe)."""
    return machine_id(fingerprint())


def _journal(
    args: argparse.Namespace,
    experiment: Experiment,
    out: Path,
    reports: Path,
    title: str,
    resume: JournalState | None,
) -> Journal | None:
    """The journal the run writes to: the resumed one, a new one, or none (--no-journal, or
    several runs, which a journal does not cover)."""
    if resume is not None:
        return Journal(resume.path, resume.start, fresh=False)
    folder = out / UNFINISHED
    stem = Path(args.experiment).stem
    earlier = sorted(folder.glob(f"{stem}-*{SUFFIX}")) if folder.is_dir() else []
    if earlier and not (args.quiet or args.json):
        print(
            f"joulebench: an unfinished run of {stem} is journalled in {earlier[-1]}; to finish "
            f"it instead: joulebench run --resume {earlier[-1]}",
            file=sys.stderr,
        )
    if args.no_journal:
        return None
    if experiment.run.repeat > 1:
        print(
            f"joulebench: {experiment.run.repeat} runs are not journalled: a killed run starts "
            "over (--resume covers a single run)",
            file=sys.stderr,
        )
        return None
    created = datetime.now(timezone.utc)
    start: dict[str, Any] = {
        "command": "run",
        "created_utc": created.isoformat(),
        "machine_id": this_machine(),
        "experiment_file": str(Path(args.experiment).resolve()),
        "experiment": experiment.model_dump(mode="json"),
        "out": str(out.resolve()),
        "reports": str(reports.resolve()),
        "title": title,
    }
    return Journal(folder / f"{stem}-{created:%Y%m%dT%H%M%S%fZ}{SUFFIX}", start)


def _resumed(args: argparse.Namespace) -> tuple[JournalState, Experiment, Path, Path, str]:
    """The journal to resume and what it records: experiment, folders, title (refused when
    it belongs to another machine or another experiment)."""
    if args.meter or args.repeat is not None:
        raise UserError("--resume goes on with the journal's meter and runs: leave out --meter "
                        "and --repeat")  # fmt: skip
    state = read_journal(args.resume)
    start = state.start
    if start.get("command") != "run":
        raise UserError(f"journal {state.path} is not from joulebench run; it cannot resume here")
    here = this_machine()
    if start.get("machine_id") != here:
        raise UserError(
            f"journal {state.path} was measured on {start.get('machine_id')}, this is {here}: "
            "resume it on that machine (energy from two machines is not one run)"
        )
    try:
        experiment = Experiment.model_validate(start["experiment"])
    except (KeyError, ValidationError) as exc:
        raise UserError(f"journal {state.path} holds no valid experiment ({exc})") from None
    if args.experiment and load_experiment(args.experiment) != experiment:
        raise UserError(
            f"journal {state.path} was taken for another experiment than {args.experiment} "
            "(or the file changed since); give only --resume"
        )
    out = ensure_writable(Path(start["out"]))
    return state, experiment, out, Path(start["reports"]), str(start.get("title", "joulebench"))
