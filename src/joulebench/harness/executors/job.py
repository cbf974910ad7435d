"""One job: every variant of an experiment measured on one machine, as ``joulebench run``
would, with its own meter and idle windows, journalled as it goes.

A job runs where an executor puts it. Its windows are journalled on that machine under
``journal_dir/<job_id>.journal.jsonl``; a job started again with the same id (the executor
retrying a job whose process was killed) resumes from its journal and measures only the
missing windows. The finished document is written atomically on the machine itself (so a
lost connection to the driver loses nothing), the journal is removed, and the document is
returned to the driver, which writes it into its own results folder.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from joulebench.harness.events import Event
from joulebench.harness.journal import SUFFIX, Journal, read_journal
from joulebench.harness.stages import StageTimes

JOURNALS_ENV = "JOULEBENCH_JOURNAL_DIR"


def default_journal_dir() -> Path:
    """Where this machine journals a fleet job's windows (``$JOULEBENCH_JOURNAL_DIR``, else
    the user's state folder)."""
    chosen = os.environ.get(JOURNALS_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_state_dir("joulebench")) / "journals"


@dataclass(frozen=True)
class Job:
    """One machine's share of an experiment (plain data: it travels to the machine)."""

    job_id: str
    """Stable across retries of the same job: it names the journal a retry resumes."""
    name: str
    experiment: dict[str, Any] | None
    """The experiment, resolved (``Experiment.model_dump(mode="json")``); None for a run made
    in Python, which travels as ``payload``."""
    title: str
    labels: dict[str, str] = field(default_factory=dict)
    resources: dict[str, float] = field(default_factory=dict)
    constraint: str | None = None
    """Slurm node features (``--constraint``)."""
    journal_dir: str | None = None
    node_results: str | None = None
    """Where the machine keeps its own copy of the document (default: beside the journal)."""
    payload: str | None = None
    """``joulebench.run(..., executor=...)``: the variants, task and run options, pickled
    (:func:`pack_payload`)."""


def pack_payload(specs: list[Any], task: Any, options: dict[str, Any]) -> str:
    """The variants (specs), task and ``run_variants`` options of a Python run, as text a job
    and the fleet record can carry; one line when the task cannot be pickled."""
    import base64
    import pickle

    from joulebench.errors import UserError

    try:
        data = pickle.dumps({"specs": specs, "task": task, "options": options})
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise UserError(
            f"the task cannot be sent to another machine ({type(exc).__name__}: {exc}); build "
            "it from plain data (texts, labels, arrays) or run it with an experiment file"
        ) from None
    return base64.b64encode(data).decode("ascii")


def unpack_payload(payload: str) -> tuple[list[Any], Any, dict[str, Any]]:
    """The specs, task and options :func:`pack_payload` packed."""
    import base64
    import pickle

    # pickle runs code: a record is only ever one joulebench wrote in your results folder
    data = pickle.loads(base64.b64decode(payload))
    return data["specs"], data["task"], data["options"]


def _what_to_run(job: Job) -> tuple[list[Any], Any, dict[str, Any], dict[str, Any]]:
    """The job's variant specs, task, ``run_variants`` options and the document's extra."""
    if job.payload is not None:
        specs, task, options = unpack_payload(job.payload)
        return specs, task, options, {"api": "joulebench.run"}
    from joulebench.config import Experiment
    from joulebench.tasks.configured import task_from_config
    from joulebench.variants.spec import sweep

    experiment = Experiment.model_validate(job.experiment)
    specs = sweep(list(experiment.variants), experiment.run.batch_sizes)
    task = task_from_config(experiment.task)
    return specs, task, experiment.run_options(), {"experiment": job.experiment}


@dataclass(frozen=True)
class JobOutcome:
    """What a job sends back: the run document, and where the machine kept its copy."""

    name: str
    document: dict[str, Any]
    node_copy: str
    host: str
    resumed_windows: int = 0
    events: list[str] = field(default_factory=list)


def run_job(job: Job) -> JobOutcome:
    """Measure the job's variants here (on the machine the executor chose)."""
    from joulebench.harness.variant_run import run_variants
    from joulebench.results.store import build_variant_document, write_document

    specs, task, options, origin = _what_to_run(job)
    folder = Path(job.journal_dir) if job.journal_dir else default_journal_dir()
    path = folder / f"{job.job_id}{SUFFIX}"
    resume = read_journal(path) if path.exists() else None
    start = {"command": "job", "job": job.name, "job_id": job.job_id, "pid": os.getpid()}
    journal = Journal(path, start, fresh=resume is None)
    if resume is not None:
        journal.append({"kind": "restart", "pid": os.getpid()})
    notes: list[str] = []

    def keep(event: Event) -> None:
        if event.kind in ("meter", "resumed", "dropped", "failed", "contaminated", "target"):
            where = f"{event.label}: " if event.label else ""
            notes.append(f"{event.kind}: {where}{event.message}")

    stages = StageTimes(keep)
    run = run_variants(specs, task, on_event=stages, journal=journal, resume=resume, **options)
    extra = {
        **origin,
        "job": {"name": job.name, "labels": job.labels, "resources": job.resources,
                "resumed_windows": resume.window_count if resume else 0},
        "stages": stages.rows(),
    }  # fmt: skip
    document = build_variant_document(run, task=task.describe(), extra=extra)
    copy = write_document(document, Path(job.node_results) if job.node_results else folder)
    journal.remove()
    return JobOutcome(
        name=job.name,
        document=document,
        node_copy=str(copy),
        host=socket.gethostname(),
        resumed_windows=resume.window_count if resume else 0,
        events=notes,
    )
