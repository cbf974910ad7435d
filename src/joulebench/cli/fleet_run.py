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
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from joulebench.cli.format import format_frame
from joulebench.cli.report import write_report
from joulebench.config import ExecutorConfig
from joulebench.errors import JoulebenchError, UserError
from joulebench.harness.executors.job import Job, JobOutcome
from joulebench.harness.executors.ray_executor import RayExecutor
from joulebench.harness.journal import UNFINISHED
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


def jobs_for(
    executor: ExecutorConfig,
    run_id: str,
    title: str,
    *,
    experiment: dict[str, Any] | None = None,
    payload: str | None = None,
) -> list[Job]:
    """One job per target of ``[executor] targets`` (one job on any machine without any),
    each carrying the experiment (a file's) or the payload (a Python run's)."""
    from joulebench.config import TargetConfig

    targets = executor.targets or [TargetConfig()]
    names = [t.title(i) for i, t in enumerate(targets)]
    if len(set(names)) != len(names):
        raise UserError(f"[executor] targets need distinct names, got {names}; add name = ...")
    return [
        Job(
            job_id=f"{run_id}-{index + 1}",
            name=name,
            experiment=experiment,
            title=title,
            labels=dict(target.labels),
            resources=dict(target.resources),
            constraint=target.constraint,
            journal_dir=executor.journal_dir,
            payload=payload,
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
    executor: ExecutorConfig,
    stem: str,
    out: Path,
    reports: Path,
    title: str,
    *,
    battery: str,
    experiment: dict[str, Any] | None = None,
    payload: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    """A new fleet run's record (written) and its path: the jobs of an experiment file
    (``experiment``, resolved) or of a Python run (``payload``, :func:`pack_payload`)."""
    created = datetime.now(timezone.utc)
    run_id = f"{stem}-{created:%Y%m%dT%H%M%S%fZ}"
    jobs = jobs_for(executor, run_id, title, experiment=experiment, payload=payload)
    record = {
        "kind": "fleet",
        "version": 2,
        "run_id": run_id,
        "created_utc": created.isoformat(),
        "executor": executor.model_dump(mode="json"),
        "experiment": experiment,
        "battery": battery,
        "out": str(out.resolve()),
        "reports": str(reports.resolve()),
        "title": title,
        "jobs": [job.__dict__ for job in jobs],
        "done": {},
        "variant_failures": {},
    }
    path = out / UNFINISHED / f"{run_id}{FLEET_SUFFIX}"
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
    from pydantic import ValidationError

    from joulebench.config import Experiment

    try:
        jobs = [Job(**job) for job in record["jobs"]]
        if record.get("experiment") is not None:
            Experiment.model_validate(record["experiment"])
    except (TypeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise UserError(f"fleet record {path} is damaged ({first}); start the run again") from None
    if any(job.experiment is None and job.payload is None for job in jobs):
        raise UserError(f"fleet record {path} has a job with nothing to run; start the run again")
    return record


@dataclass(frozen=True)
class FleetOutcome:
    """What a fleet run did: each finished job's document, the report, the jobs that failed
    and the record to resume them from."""

    results_paths: list[Path]
    report_path: Path | None
    table: str
    failed_jobs: list[tuple[str, str]]
    """(job, its error line) for each job that did not finish."""
    variant_failures: list[dict[str, Any]]
    """The failed variants of the finished jobs (name, error)."""
    record_path: Path
    """The fleet record; gone once every job has finished (``joulebench run --resume`` it)."""

    @property
    def exit_code(self) -> int:
        """0 when every job and variant finished, else 1."""
        return 1 if self.failed_jobs or self.variant_failures else 0


def _variant_failures(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The failed variants of every finished job (kept in the record as each job arrives;
    a version-1 record's are read from the stored documents)."""
    kept = record.setdefault("variant_failures", {})
    found: list[dict[str, Any]] = []
    for name, stored in record["done"].items():
        if name not in kept and Path(stored).exists():
            kept[name] = json.loads(Path(stored).read_text(encoding="utf-8")).get("failures")
        found += kept.get(name) or []
    return found


def run_fleet(
    path: Path,
    record: dict[str, Any],
    *,
    quiet: bool,
    wide: bool = False,
    fresh: bool = True,
) -> FleetOutcome:
    """Submit the record's unfinished jobs, store each document as it arrives, report on
    every finished job of the run; a failed job keeps the record, to resume.
    ``fresh``: a new run, whose record goes when the cluster refuses it before any job ran."""
    jobs = [Job(**job) for job in record["jobs"] if job["name"] not in record["done"]]
    out, reports = Path(record["out"]), Path(record["reports"])
    experiment_run = (record.get("experiment") or {}).get("run") or {}  # version 1: no battery
    battery = str(record.get("battery") or experiment_run.get("battery") or "phone")

    def arrived(outcome: JobOutcome) -> None:
        stored = write_document(outcome.document, out)
        record["done"][outcome.name] = str(stored)
        record.setdefault("variant_failures", {})[outcome.name] = outcome.document.get("failures")
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
    variant_failures = _variant_failures(record)
    for failure in variant_failures:
        print(f"joulebench: error: variant {failure['name']!r}: {failure['error']}",
              file=sys.stderr)  # fmt: skip
    report, table = None, ""
    if stored:
        written, table = write_report(stored, reports, battery, str(record["title"]), wide=wide)
        report = written[0]
        if not quiet:
            print(table)
            print(jobs_table(record))
            print(f"Results: {', '.join(map(str, stored))}")
            print(f"Report:  {report}")
    if failures:
        _write_record(path, record)
        print(
            f"joulebench: {len(failures)} job(s) did not finish; the others are stored. Run "
            f"them again (each machine resumes from its journal): joulebench run --resume {path}",
            file=sys.stderr,
        )
    else:
        path.unlink(missing_ok=True)
    return FleetOutcome(stored, report, table, list(failures), variant_failures, path)


def jobs_table(record: dict[str, Any]) -> str:
    """The jobs of a fleet run and where each one's document is."""
    import pandas as pd

    rows = [
        {"job": job["name"], "labels": ", ".join(f"{k}={v}" for k, v in job["labels"].items())
         or "any machine", "results": record["done"].get(job["name"], "not finished")}
        for job in record["jobs"]
    ]  # fmt: skip
    return format_frame(pd.DataFrame(rows), "Jobs")
