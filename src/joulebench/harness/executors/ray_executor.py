"""Jobs on a Ray cluster: one ``joulebench_slot`` per job, node labels choose the machine.

Every machine of the fleet advertises the custom resource ``joulebench_slot`` exactly once
(``ray start ... --resources '{"joulebench_slot": 1}'``) and every job asks for one, so at most
one measurement runs on a machine at a time: Ray's resources are bookkeeping, not isolation,
and the slot is what keeps two jobs from measuring each other. The job asks for no CPU of
Ray's (``num_cpus=0``): it uses the machine's threads as the experiment says. A job goes to a
machine whose labels match the target's (``label_selector``) and that has its custom
resources; a job that no live machine can take is refused before anything is submitted,
naming what it asked for and what the cluster has (Ray would otherwise leave it pending
for ever). A job whose process dies is retried by Ray (``max_retries``); the retry resumes
from the machine's journal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from joulebench.errors import UserError
from joulebench.harness.executors.job import Job, JobOutcome, run_job

SLOT = "joulebench_slot"
INTERNAL_LABEL_PREFIX = "ray.io/"


def import_ray() -> ModuleType:
    """Ray, or one line saying how to get a working one."""
    try:
        import ray
    except ImportError:
        raise UserError(
            "the ray executor needs Ray: pip install 'joulebench[ray]' (on every machine of "
            "the fleet)"
        ) from None
    except Exception as exc:  # a broken install fails on import with other errors
        hint = (
            "; the amdsmi package (installed by zeus) needs AMD's libamd_smi.so: pip uninstall "
            "amdsmi where there is no AMD GPU"
            if "amd" in str(exc).lower()
            else ""
        )
        raise UserError(f"Ray could not be imported ({type(exc).__name__}: {exc}){hint}") from None
    return ray


def connect(ray: ModuleType, address: str) -> None:
    """Join the cluster at ``address`` (this process may already be in one)."""
    if ray.is_initialized():
        return
    try:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise UserError(
            f"no Ray cluster at {address!r} ({str(exc).splitlines()[0]}): start one with "
            f"ray start --head --resources '{{\"{SLOT}\": 1}}', or give its --address"
        ) from None


@dataclass(frozen=True)
class Node:
    """One machine of the cluster, as Ray sees it."""

    node_id: str
    host: str
    alive: bool
    slots: float
    labels: dict[str, str] = field(default_factory=dict)
    resources: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        """``host (slots 1, labels a=b)`` for messages."""
        labels = ", ".join(f"{k}={v}" for k, v in self.labels.items()) or "no labels"
        return f"{self.host} ({'' if self.alive else 'dead, '}slots {self.slots:g}, {labels})"

    def takes(self, job: Job) -> bool:
        """Whether this machine can run ``job`` (alive, one slot, its labels, its resources)."""
        return (
            self.alive
            and self.slots >= 1
            and all(self.labels.get(k) == v for k, v in job.labels.items())
            and all(self.resources.get(k, 0.0) >= v for k, v in job.resources.items())
        )


def nodes(ray: ModuleType) -> list[Node]:
    """The cluster's machines (Ray's internal labels left out)."""
    found = []
    for entry in ray.nodes():
        resources = dict(entry.get("Resources") or {})
        labels = {
            str(k): str(v)
            for k, v in (entry.get("Labels") or {}).items()
            if not str(k).startswith(INTERNAL_LABEL_PREFIX)
        }
        found.append(
            Node(
                node_id=str(entry.get("NodeID")),
                host=str(entry.get("NodeManagerHostname") or entry.get("NodeManagerAddress")),
                alive=bool(entry.get("Alive")),
                slots=float(resources.get(SLOT, 0.0)),
                labels=labels,
                resources={k: float(v) for k, v in resources.items()},
            )
        )
    return found


def check_placement(jobs: Sequence[Job], cluster: Sequence[Node]) -> None:
    """Refuse, in one line, a job no live machine can take, and a machine that advertises
    more than one slot (two measurements at once on it would measure each other)."""
    crowded = [n for n in cluster if n.alive and n.slots > 1]
    if crowded:
        raise UserError(
            f"machine {crowded[0].host} advertises {crowded[0].slots:g} {SLOT}s: give every "
            f"machine exactly one (ray start ... --resources '{{\"{SLOT}\": 1}}'), so that "
            "two measurements never share it"
        )
    for job in jobs:
        if not any(node.takes(job) for node in cluster):
            wanted = ", ".join(
                [f"label {k}={v}" for k, v in job.labels.items()]
                + [f"resource {k}>={v:g}" for k, v in job.resources.items()]
                + [f"one {SLOT}"]
            )
            have = "; ".join(n.describe() for n in cluster) or "no machines"
            raise UserError(
                f"no machine of the cluster can take job {job.name!r}: it asks for {wanted}; "
                f"the cluster has {have}. Start a matching machine (docs/fleet.md) or change "
                "[executor] targets"
            )


@dataclass
class RayExecutor:
    """Runs jobs on the Ray cluster at ``address``; a job whose process dies is retried
    ``max_retries`` times (each retry resumes from its journal)."""

    address: str = "auto"
    max_retries: int = 2
    run_function: Callable[[Job], JobOutcome] = run_job

    def run(
        self, jobs: Sequence[Job], on_outcome: Callable[[JobOutcome], None] = lambda o: None
    ) -> tuple[list[JobOutcome], list[tuple[str, str]]]:
        """Run every job; return the outcomes and the (job, one-line error) of failed ones."""
        ray = import_ray()
        connect(ray, self.address)
        check_placement(jobs, nodes(ray))
        remote = ray.remote(self.run_function)
        refs: dict[Any, Job] = {}
        for job in jobs:
            options: dict[str, Any] = {
                "resources": {SLOT: 1, **job.resources},
                "num_cpus": 0,
                "max_retries": self.max_retries,
            }
            if job.labels:
                options["label_selector"] = dict(job.labels)
            refs[remote.options(**options).remote(job)] = job
        outcomes: list[JobOutcome] = []
        failures: list[tuple[str, str]] = []
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                try:
                    outcome = ray.get(ref)
                except Exception as exc:  # the job's own error, or its machine lost
                    failures.append((refs[ref].name, one_line(exc)))
                    continue
                outcomes.append(outcome)
                on_outcome(outcome)
        return outcomes, failures


def one_line(exc: BaseException) -> str:
    """A job's error as one line: the cause Ray wrapped, without its traceback."""
    cause = getattr(exc, "cause", None) or exc
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0]}" if text else type(cause).__name__
