"""An experiment through a real local Ray cluster: one slot, two jobs that never overlap, one
store, a killed job that resumes from its journal, and the same document as a local run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest

from joulebench.cli.main import main
from joulebench.errors import UserError
from joulebench.harness.executors.job import Job
from joulebench.harness.executors.ray_executor import Node, check_placement
from joulebench.results import load
from tests.models import array_experiment

LABEL = {"joulebench/meter": "simulated"}


def _ray():
    try:
        import ray
    except Exception as exc:  # not installed, or an install that cannot import here
        pytest.skip(f"ray cannot be imported here: {type(exc).__name__}: {exc}")
    return ray


@pytest.fixture(scope="module")
def cluster():
    ray = _ray()
    ray.init(
        num_cpus=2, resources={"joulebench_slot": 1}, labels=LABEL, include_dashboard=False,
        log_to_driver=False, logging_level="ERROR",
    )  # fmt: skip
    yield ray
    ray.shutdown()


def experiment(tmp_path: Path, executor: str) -> Path:
    """Two callables; ``good`` kills job 1's process once, in its first window after the first
    round (3 journalled windows: good, half, idle), whatever order the second round has."""
    journals = tmp_path / "journals"
    models = (
        "import json, os, pathlib, signal, time\n"
        f"JOURNALS = pathlib.Path({str(journals)!r})\n"
        f"MARKER = pathlib.Path({str(tmp_path / 'killed-at')!r})\n"
        "def kill_job_one_once():\n"
        "    if MARKER.exists():\n"
        "        return\n"
        "    for journal in JOURNALS.glob('*-1.journal.jsonl'):\n"
        "        text = journal.read_text()\n"
        '        if text.count(\'"kind": "window"\') >= 3:\n'
        "            MARKER.write_text(str(time.time()))\n"
        "            os.kill(json.loads(text.split(chr(10))[0])['pid'], signal.SIGKILL)\n"
        "def good(batch):\n    kill_job_one_once()\n    return (batch[:, 1] > 0).astype(int)\n"
        "def half(batch):\n    return (batch[:, 0] > 0).astype(int)\n"
    )
    protocol = "windows = 2\nmin_window_s = 0.15\nwarmup_s = 0.05\nwarmup_calls = 1\nseed = 3\n"
    tail = (
        f'\n[executor]\nkind = "{executor}"\njournal_dir = "{journals}"\n'
        '[[executor.targets]]\nname = "first"\nlabels = { "joulebench/meter" = "simulated" }\n'
        '[[executor.targets]]\nname = "second"\nlabels = { "joulebench/meter" = "simulated" }\n'
    )
    return array_experiment(tmp_path, protocol, models=models, tail=tail)


@pytest.mark.slow
def test_two_jobs_on_one_slot_never_overlap_land_in_one_store_and_a_killed_one_resumes(
    cluster, tmp_path, capsys
):
    path = experiment(tmp_path, "ray")
    out, reports = tmp_path / "results", tmp_path / "reports"
    code = main(["run", str(path), "--out", str(out), "--reports", str(reports)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    killed_at = float((tmp_path / "killed-at").read_text())
    documents = {}
    for file in out.rglob("*.json"):
        document = json.loads(file.read_text())
        documents[document["extra"]["job"]["name"]] = document
    assert sorted(documents) == ["first", "second"]  # both in the driver's one store
    spans = {}
    for name, document in documents.items():
        windows = [w for m in document["measurements"] for w in m["windows"]]
        windows += document["idle_windows"]
        spans[name] = [(w["start_wall_s"], w["end_wall_s"]) for w in windows]
        assert [m["label"] for m in document["measurements"]] == ["good", "half"]
        assert all(len(m["windows"]) == 2 for m in document["measurements"])
    # one slot: no window of one job was open while a window of the other was
    for a0, a1 in spans["first"]:
        assert all(a1 <= b0 or b1 <= a0 for b0, b1 in spans["second"])
    first = documents["first"]
    assert first["extra"]["job"]["resumed_windows"] >= 3  # the kill came after round 1
    kept = [w for m in first["measurements"] for w in m["windows"] if w["start_wall_s"] < killed_at]
    assert kept  # windows taken before the kill are in the document, not measured again
    assert documents["second"]["extra"]["job"]["resumed_windows"] == 0
    assert "windows resumed from its journal" in captured.err
    assert "joulebench: [first] resumed:" in captured.err  # the machine's own notices, relayed
    assert "joulebench: [second] meter:" in captured.err
    assert not list((tmp_path / "journals").glob("*.journal.jsonl"))
    assert not list((out / "unfinished").glob("*"))  # the fleet record is gone: all finished
    assert list(reports.glob("*.html"))

    # the same experiment run here, without Ray: the same document, less the job's record
    local = experiment(tmp_path, "local")
    assert main(["run", str(local), "--out", str(tmp_path / "local"), "--quiet"]) == 0
    (local_file,) = (tmp_path / "local").rglob("*.json")
    alone = json.loads(local_file.read_text())
    assert set(alone) == set(first)
    assert set(first["extra"]) - set(alone["extra"]) == {"job"}
    for ours, theirs in zip(first["measurements"], alone["measurements"], strict=True):
        assert set(ours) == set(theirs) and set(ours["variant"]) == set(theirs["variant"])
        assert ours["variant"]["accuracy"] == theirs["variant"]["accuracy"]


def test_a_job_no_machine_can_take_is_refused_in_one_line_naming_the_label_and_machines():
    job = Job("r-1", "board", {}, "t", labels={"joulebench/device": "jetson-orin"})
    laptop = Node("n1", "laptop", True, 1.0, {"joulebench/meter": "rapl"})
    with pytest.raises(UserError) as caught:
        check_placement([job], [laptop])
    message = str(caught.value)
    assert "job 'board'" in message and "label joulebench/device=jetson-orin" in message
    assert "laptop (slots 1, joulebench/meter=rapl)" in message and "\n" not in message
    with pytest.raises(UserError, match="advertises 2 joulebench_slots"):
        check_placement([job], [Node("n2", "server", True, 2.0, {})])
    no_slot = Node("n3", "board", True, 0.0, {"joulebench/device": "jetson-orin"})
    with pytest.raises(UserError, match="one joulebench_slot"):
        check_placement([job], [no_slot])
    check_placement([job], [laptop, Node("n4", "board", True, 1.0, dict(job.labels))])


@pytest.mark.slow
def test_fleet_lists_each_machine_with_its_slot_labels_and_the_meters_it_probed(cluster, capsys):
    assert main(["fleet", "--json"]) == 0
    (machine,) = json.loads(capsys.readouterr().out)
    assert machine["alive"] and machine["slots"] == 1.0 and machine["labels"] == LABEL
    available = {m["name"] for m in machine["meters"] if m["available"]}
    assert {"estimate", "simulated"} <= available
    assert main(["fleet"]) == 0
    out = capsys.readouterr().out
    assert "Machines of the fleet" in out and "joulebench/meter=simulated" in out


def test_without_ray_or_without_a_cluster_the_executor_says_so_in_one_line(monkeypatch):
    import sys
    from types import SimpleNamespace

    from joulebench.harness.executors import ray_executor

    monkeypatch.setitem(sys.modules, "ray", None)  # not installed
    with pytest.raises(UserError, match=r"pip install 'joulebench\[ray\]'"):
        ray_executor.import_ray()

    def refuse(**kwargs):
        raise ConnectionError("Could not find any running Ray instance.\nmore lines")

    nowhere = SimpleNamespace(is_initialized=lambda: False, init=refuse)
    with pytest.raises(UserError) as caught:
        ray_executor.connect(nowhere, "auto")
    assert "no Ray cluster at 'auto' (Could not find any running Ray instance.)" in str(
        caught.value
    )
    assert "ray start --head --resources" in str(caught.value) and "\n" not in str(caught.value)


class FlakyExecutor:
    """Runs jobs here, one after another; the job named in ``fail`` fails its first time."""

    runs: ClassVar[list[str]] = []
    fail: ClassVar[set[str]] = {"second"}

    def __init__(self, settings):
        self.settings = settings

    def run(self, jobs, on_outcome):
        from joulebench.harness.executors.job import run_job

        failures = []
        for job in jobs:
            FlakyExecutor.runs.append(job.name)
            if job.name in FlakyExecutor.fail:
                FlakyExecutor.fail.discard(job.name)
                failures.append((job.name, "WorkerCrashedError: the machine was lost"))
                continue
            on_outcome(run_job(job))
        return [], failures


@pytest.fixture
def flaky(monkeypatch):
    """The fleet runs its jobs through :class:`FlakyExecutor`, afresh: job 'second' fails once."""
    from joulebench.cli import fleet_run

    monkeypatch.setattr(fleet_run, "EXECUTOR", FlakyExecutor)
    monkeypatch.setattr(FlakyExecutor, "runs", [])
    monkeypatch.setattr(FlakyExecutor, "fail", {"second"})
    return FlakyExecutor


@pytest.mark.slow
def test_a_failed_job_keeps_the_others_results_and_resume_runs_only_it(tmp_path, capsys, flaky):
    (tmp_path / "killed-at").write_text("0")  # no kill in this test
    path = experiment(tmp_path, "ray")
    out = tmp_path / "results"
    code = main(["run", str(path), "--out", str(out), "--reports", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 1 and "job second failed: WorkerCrashedError: the machine was lost" in err
    (record_path,) = (out / "unfinished").glob("exp-*.fleet.json")
    assert f"joulebench run --resume {record_path}" in err
    record = json.loads(record_path.read_text())
    assert list(record["done"]) == ["first"]
    first_file = Path(record["done"]["first"])
    assert first_file.exists()  # stored as it arrived
    # the results folder reads while the record waits in unfinished/ (it is not a document)
    assert sorted(load(out)["variant"]) == ["good", "half"]

    assert main(["run", "--resume", str(record_path)]) == 0
    assert flaky.runs == ["first", "second", "second"]  # only the missing job again
    assert not record_path.exists()
    names = sorted(json.loads(p.read_text())["extra"]["job"]["name"] for p in out.rglob("*.json"))
    assert names == ["first", "second"]
    assert first_file.exists()


@pytest.mark.slow
def test_joulebench_run_in_python_takes_an_executor_and_its_record_resumes_from_the_cli(
    tmp_path, capsys, flaky
):
    import numpy as np

    import joulebench as jb
    from joulebench.cli import fleet_run
    from tests.workloads import sign_of_first, sign_of_second

    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 2))
    task = jb.tasks.from_arrays(x, (x[:, 1] > 0).astype(int))
    executor = {"kind": "ray", "journal_dir": str(tmp_path / "journals"),
                "targets": [{"name": "first"}, {"name": "second"}]}  # fmt: skip
    out = tmp_path / "results"
    outcome = jb.run(
        [sign_of_second, sign_of_first], task, executor=executor, meter="simulated", quiet=True,
        out=out, reports=tmp_path / "r", windows=2, min_window_s=0.15, warmup_s=0.05,
        warmup_calls=1, seed=3, max_length=64,  # max_length: the worker's, not a protocol's
    )  # fmt: skip
    assert isinstance(outcome, fleet_run.FleetOutcome)
    assert outcome.exit_code == 1 and [name for name, _ in outcome.failed_jobs] == ["second"]
    assert "joulebench run --resume" in capsys.readouterr().err
    (first,) = outcome.results_paths
    document = json.loads(first.read_text())
    assert document["extra"]["api"] == "joulebench.run" and "experiment" not in document["extra"]
    frame = load(first).set_index("variant")
    assert frame.loc["sign_of_second", "score"] == 1.0 > frame.loc["sign_of_first", "score"]
    record = json.loads(outcome.record_path.read_text())
    assert record["variant_failures"] == {"first": []} and record["experiment"] is None

    assert main(["run", "--resume", str(outcome.record_path), "--quiet"]) == 0
    assert flaky.runs == ["first", "second", "second"]
    assert not outcome.record_path.exists()
    jobs = sorted(json.loads(p.read_text())["extra"]["job"]["name"] for p in out.rglob("*.json"))
    assert jobs == ["first", "second"]


def test_a_python_run_refuses_an_unknown_executor_and_repeat_in_one_line(tmp_path):
    import numpy as np

    import joulebench as jb
    from tests.workloads import sign_of_first

    task = jb.tasks.from_arrays(np.ones((4, 2)), np.ones(4, dtype=int))
    with pytest.raises(jb.UserError, match=r"^executor kind: .*\(kinds: local, ray, slurm\)$"):
        jb.run([sign_of_first], task, executor="kubernetes", out=tmp_path)
    with pytest.raises(jb.UserError, match="repeat=3 is not supported with the ray executor"):
        jb.run([sign_of_first], task, executor="ray", repeat=3, out=tmp_path)
    with pytest.raises(jb.UserError, match="windows"):
        jb.run([sign_of_first], task, executor="ray", windows=0, out=tmp_path)
    local_metric = jb.tasks.generic(np.ones((4, 2)), [1, 1, 1, 1], lambda p, y: 1.0)
    with pytest.raises(jb.UserError, match=r"^the task cannot be sent to another machine \("):
        jb.run([sign_of_first], local_metric, executor="ray", out=tmp_path)
    assert not (tmp_path / "unfinished").exists()  # nothing recorded, nothing submitted
