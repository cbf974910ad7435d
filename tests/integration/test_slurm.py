"""The Slurm executor through submitit: sbatch asks for a whole node and its features; the
local cluster runs the jobs one after another and the results land in one store."""

from __future__ import annotations

import json

import pytest

from joulebench.cli.main import main
from joulebench.harness.executors.job import Job
from joulebench.harness.executors.slurm_executor import slurm_parameters
from tests.integration.test_fleet import experiment

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


@pytest.mark.slow
def test_jobs_through_submitits_local_cluster_run_one_after_another_into_one_store(tmp_path):
    (tmp_path / "killed-at").write_text("0")  # the shared experiment's kill is off
    path = experiment(tmp_path, "slurm")
    text = path.read_text().replace(
        'kind = "slurm"', f'kind = "slurm"\ncluster = "local"\nfolder = "{tmp_path / "slurm"}"'
    )
    path.write_text(text.replace('labels = { "joulebench/meter" = "simulated" }', ""))
    out = tmp_path / "results"
    assert main(["run", str(path), "--out", str(out), "--reports", str(tmp_path / "r")]) == 0
    documents = [json.loads(p.read_text()) for p in out.rglob("*.json")]
    assert sorted(d["extra"]["job"]["name"] for d in documents) == ["first", "second"]
    spans = [
        [(w["start_wall_s"], w["end_wall_s"])
         for m in d["measurements"] for w in m["windows"]] + [
         (w["start_wall_s"], w["end_wall_s"]) for w in d["idle_windows"]]
        for d in documents
    ]  # fmt: skip
    first_end = max(end for _, end in spans[0])
    second_start = min(start for start, _ in spans[1])
    assert first_end <= second_start or max(e for _, e in spans[1]) <= min(s for s, _ in spans[0])
    assert not list((out / "unfinished").glob("*"))
