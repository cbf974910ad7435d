"""The Slurm executor through submitit: sbatch asks for a whole node and its features; the
local cluster runs the jobs one after another and the results land in one store."""

from __future__ import annotations

import socket
import time

import pytest

from joulebench.errors import UserError
from joulebench.harness.executors.job import Job, JobOutcome
from joulebench.harness.executors.slurm_executor import SlurmExecutor, slurm_parameters

submitit = pytest.importorskip("submitit")


def test_each_job_asks_slurm_for_a_whole_node_with_its_features(tmp_path, monkeypatch):
    from submitit.slurm.slurm import SlurmExecutor

    monkeypatch.setattr(SlurmExecutor, "affinity", classmethod(lambda cls: 1))  # no srun here
    executor = submitit.AutoExecutor(folder=tmp_path, cluster="slurm")
    job = Job("r-1", "server", {}, "t", constraint="h100&nvlink")
    executor.update_parameters(**slurm_parameters(job, "gpu", 90))  # as SlurmExecutor.run does
    text = executor._executor._make_submission_file_text("python -c pass", "UID")
    assert "#SBATCH --exclusive" in text
    assert "#SBATCH --constraint='h100&nvlink'" in text  # quoted for the shell
    assert "#SBATCH --partition=gpu" in text and "#SBATCH --nodes=1" in text
    assert "#SBATCH --time=90" in text and "#SBATCH --job-name=joulebench-server" in text


def timed_job(job: Job) -> JobOutcome:
    """Stands for run_job in a submitit process: sleeps, says when it ran; "broken" fails."""
    if job.name == "broken":
        raise UserError("variant 'x' cannot load")
    start = time.time()
    time.sleep(0.5)
    return JobOutcome(job.name, {"span": [start, time.time()]}, "", socket.gethostname())


def test_submitits_local_cluster_runs_jobs_one_after_another_and_reports_a_failed_one(tmp_path):
    executor = SlurmExecutor(folder=str(tmp_path / "jobs"), cluster="local", run_function=timed_job)
    jobs = [Job(f"r-{i}", name, {}, "t") for i, name in enumerate(["first", "broken", "second"])]
    arrived = []
    outcomes, failures = executor.run(jobs, on_outcome=arrived.append)
    assert [o.name for o in outcomes] == [o.name for o in arrived] == ["first", "second"]
    (_, first_end), (second_start, _) = (o.document["span"] for o in outcomes)
    assert first_end <= second_start  # one machine: never two measurements at once
    assert failures == [("broken", "joulebench.errors.UserError: variant 'x' cannot load")]
