"""``joulebench run exp.toml --executor ray``: one job per target on a Ray cluster, one store.

The driver (this process) keeps a record of the fleet run in
``<out>/unfinished/<experiment>-<time>.fleet.json`` (written atomically after every job that
ends): the jobs, and the document each finished one wrote. Each job's document is written
into ``<out>/<its machine>/`` as it arrives, so a job that fails or a machine that is lost
costs only its own variants. ``joulebench run --resume <that file>`` submits the unfinished
jobs again under the same ids: each machine resumes from its own journal and measures only
the missing windows. The record is removed when every job has finished.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from joulebench.cli.format import format_frame
from joulebench.cli.report import write_report
from joulebench.config import Experiment
from joulebench.errors import JoulebenchError, UserError
from joulebench.harness.executors.job import Job, JobOutcome
from joulebench.harness.executors.ray_executor import RayExecutor
from joulebench.results.store import write_document

FLEET_SUFFIX = ".fleet.json"
EXECUTOR: Callable[..., Any] | None = None
"""What runs the jobs, given the record's executor settings (None: Ray or Slurm as the record
says; tests put a fake one here)."""


def make_executor(settings: dict[str, Any]) -> Any:
    """The executor a fleet run's ``[executor]`` settings name."""
    if EXECUTOR is not None:
        return EXECUTOR(settings)
    if settings.get("kind") == "slurm":
        from joulebench.harness.executors.slurm_executor import SlurmExecutor

        return SlurmExecutor(
            folder=str(settings["folder"]),
            partition=settings.get("partition"),
            timeout_min=int(settings.get("timeout_min", 240)),
            cluster=settings.get("cluster"),
        )
    return RayExecutor(address=str(settings.get("address") or "auto"))


def jobs_for(experiment: Experiment, run_id: str, title: str) -> list[Job]:
    """One job per target of ``[executor] targets`` (one job on any machine without any)."""
    from joulebench.config import TargetConfig

    targets = experiment.executor.targets or [TargetConfig()]
    names = [t.title(i) for i, t in enumerate(targets)]
    if len(set(names)) != len(names):
        raise UserError(f"[executor] targets need distinct names, got {names}; add name = ...")
    dump = experiment.model_dump(mode="json")
    return [
        Job(
            job_id=f"{run_id}-{index + 1}",
            name=name,
            experiment=dump,
            title=title,
            labels=dict(target.labels),
            resources=dict(target.resources),
            constraint=target.constraint,
            journal_dir=experiment.executor.journal_dir,
        )
        for index, (name, target) in enumerate(zip(names, targets, strict=True))
    ]


def _write_record(path: Path, record: dict[str, Any]) -> None:
    """Replace the fleet record atomically (a temp file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=FLEET_SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).replace(path)
    finally:
        Path(temp).unlink(missing_ok=True)


def start_fleet_run(
    experiment: Experiment, stem: str, out: Path, reports: Path, title: str
) -> tuple[Path, dict[str, Any]]:
    """A new fleet run's record (written) and its path."""
    created = datetime.now(timezone.utc)
    run_id = f"{stem}-{created:%Y%m%dT%H%M%S%fZ}"
    record = {
        "kind": "fleet",
        "version": 1,
        "run_id": run_id,
        "created_utc": created.isoformat(),
        "executor": experiment.executor.model_dump(mode="json"),
        "experiment": experiment.model_dump(mode="json"),
        "out": str(out.resolve()),
        "reports": str(reports.resolve()),
        "title": title,
        "jobs": [job.__dict__ for job in jobs_for(experiment, run_id, title)],
        "done": {},
    }
    path = out / "unfinished" / f"{run_id}{FLEET_SUFFIX}"
    _write_record(path, record)
    return path, record


def read_fleet_record(path: Path) -> dict[str, Any]:
    """A fleet run's record, checked."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"no fleet run record at {path}: give the path joulebench printed"
        ) from None
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the fleet run record {path} ({exc})") from None
    if not isinstance(record, dict) or record.get("kind") != "fleet" or "jobs" not in record:
        raise UserError(f"{path} is not a joulebench fleet run record")
    return record


def run_fleet(
    path: Path,
    record: dict[str, Any],
    *,
    quiet: bool,
    wide: bool,
    battery: str,
    fresh: bool = True,
) -> int:
    """Submit the record's unfinished jobs, store each document as it arrives, report on
    every finished job of the run; exit 1 when a job failed (the record stays, to resume).
    ``fresh``: a new run, whose record goes when the cluster refuses it before any job ran."""
    jobs = [Job(**job) for job in record["jobs"] if job["name"] not in record["done"]]
    out, reports = Path(record["out"]), Path(record["reports"])

    def arrived(outcome: JobOutcome) -> None:
        stored = write_document(outcome.document, out)
        record["done"][outcome.name] = str(stored)
        _write_record(path, record)
        if not quiet:
            resumed = (
                f", {outcome.resumed_windows} windows resumed from its journal"
                if outcome.resumed_windows
                else ""
            )
            print(
                f"joulebench: job {outcome.name} finished on {outcome.host}{resumed}: {stored}",
                file=sys.stderr,
            )
            for line in outcome.events:  # what the machine said a reader must see
                print(f"joulebench: [{outcome.name}] {line}", file=sys.stderr)

    executor = make_executor(record["executor"])
    try:
        _, failures = executor.run(jobs, on_outcome=arrived)
    except JoulebenchError:
        if fresh and not record["done"]:
            path.unlink(missing_ok=True)  # refused before any job ran: nothing to resume
        raise
    stored = [Path(p) for p in record["done"].values()]
    for name, error in failures:
        print(f"joulebench: error: job {name} failed: {error}", file=sys.stderr)
    variant_failures = [
        (json.loads(p.read_text()).get("failures") or []) for p in stored if p.exists()
    ]
    for failures_of_job in variant_failures:
        for failure in failures_of_job:
            print(f"joulebench: error: variant {failure['name']!r}: {failure['error']}",
                  file=sys.stderr)  # fmt: skip
    if stored:
        written, table = write_report(stored, reports, battery, str(record["title"]), wide=wide)
        if not quiet:
            print(table)
            print(jobs_table(record))
            print(f"Results: {', '.join(map(str, stored))}")
            print(f"Report:  {written[0]}")
    if failures:
        print(
            f"joulebench: {len(failures)} job(s) did not finish; the others are stored. Run "
            f"them again (each machine resumes from its journal): joulebench run --resume {path}",
            file=sys.stderr,
        )
        return 1
    path.unlink(missing_ok=True)
    return 1 if any(variant_failures) else 0


def jobs_table(record: dict[str, Any]) -> str:
    """The jobs of a fleet run and where each one's document is."""
    import pandas as pd

    rows = [
        {"job": job["name"], "labels": ", ".join(f"{k}={v}" for k, v in job["labels"].items())
         or "any machine", "results": record["done"].get(job["name"], "not finished")}
        for job in record["jobs"]
    ]  # fmt: skip
    return format_frame(pd.DataFrame(rows), "Jobs")
