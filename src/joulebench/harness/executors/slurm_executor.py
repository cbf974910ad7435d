"""Jobs on a Slurm cluster through submitit: exclusive nodes, node features as constraints.

Each job is one ``sbatch`` job on a whole node (``--exclusive``, so no other job shares the
machine while its windows are open), on a node with the target's features (``--constraint``)
in the chosen partition. submitit pickles the job and its outcome through ``folder``, which
must be on a filesystem the nodes and the driver share; the driver writes each document into
its results folder atomically as it arrives. For tests and a single machine, ``cluster =
"local"`` runs the jobs as local processes, one after another (two at once on one machine
would measure each other).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from joulebench.errors import UserError
from joulebench.harness.executors.job import Job, JobOutcome, run_job


def import_submitit() -> ModuleType:
    """submitit, or one line saying how to get it."""
    try:
        import submitit
    except ImportError:
        raise UserError(
            "the slurm executor needs submitit: pip install 'joulebench[slurm]'"
        ) from None
    return submitit


def slurm_parameters(job: Job, partition: str | None, timeout_min: int) -> dict[str, Any]:
    """submitit's parameters for ``job``: a whole node, its features, one task."""
    parameters: dict[str, Any] = {
        "name": f"joulebench-{job.name}",
        "timeout_min": timeout_min,
        "nodes": 1,
        "tasks_per_node": 1,
        "slurm_exclusive": True,
    }
    if job.constraint:
        parameters["slurm_constraint"] = job.constraint
    if partition:
        parameters["slurm_partition"] = partition
    return parameters


@dataclass
class SlurmExecutor:
    """Runs jobs through submitit (``cluster=None``: Slurm where it is found; ``"local"``:
    local processes, one at a time)."""

    folder: str
    partition: str | None = None
    timeout_min: int = 240
    cluster: str | None = None
    run_function: Callable[[Job], JobOutcome] = run_job

    def run(
        self, jobs: Sequence[Job], on_outcome: Callable[[JobOutcome], None] = lambda o: None
    ) -> tuple[list[JobOutcome], list[tuple[str, str]]]:
        """Submit every job (one after another where they share this machine); return the
        outcomes and the (job, one-line error) of failed ones."""
        submitit = import_submitit()
        executor = submitit.AutoExecutor(folder=Path(self.folder), cluster=self.cluster)
        sequential = executor.cluster != "slurm"
        outcomes: list[JobOutcome] = []
        failures: list[tuple[str, str]] = []
        submitted = []
        for job in jobs:
            executor.update_parameters(**slurm_parameters(job, self.partition, self.timeout_min))
            handle = executor.submit(self.run_function, job)
            submitted.append((job, handle))
            if sequential:
                self._collect(job, handle, outcomes, failures, on_outcome)
        if not sequential:
            for job, handle in submitted:
                self._collect(job, handle, outcomes, failures, on_outcome)
        return outcomes, failures

    @staticmethod
    def _collect(
        job: Job,
        handle: Any,
        outcomes: list[JobOutcome],
        failures: list[tuple[str, str]],
        on_outcome: Callable[[JobOutcome], None],
    ) -> None:
        try:
            outcome = handle.result()
        except Exception as exc:  # the job's own error, or the cluster's
            failures.append((job.name, failure_line(exc)))
            return
        outcomes.append(outcome)
        on_outcome(outcome)


ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b.*: ")


def failure_line(exc: BaseException) -> str:
    """A failed job as one line: the job's own error (the last ``SomeError: message`` line of
    the traceback submitit passes on), else the first line of what the cluster said."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    errors = [line for line in lines if ERROR_LINE.match(line)]
    if errors:
        return errors[-1]
    return lines[0] if lines else type(exc).__name__
