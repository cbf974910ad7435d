"""`kill -9` of `joulebench run`, then `joulebench run --resume JOURNAL`: only the missing
windows are measured, and no earlier file is lost or half-written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from joulebench.cli import run as run_cli
from joulebench.cli.main import main
from joulebench.harness.journal import read_journal
from tests.models import array_experiment

WINDOWS = 4


def experiment(tmp_path: Path, windows: int = WINDOWS, min_window_s: float = 0.15) -> Path:
    protocol = (
        f"windows = {windows}\nmin_window_s = {min_window_s}\nwarmup_s = 0.05\n"
        "warmup_calls = 1\nseed = 7\n"
    )
    return array_experiment(tmp_path, protocol)


def window_lines(folder: Path) -> int:
    journals = list(folder.glob("*.journal.jsonl"))
    if not journals:
        return 0
    return journals[0].read_text().count('"kind": "window"')


@pytest.mark.slow
def test_kill_9_then_resume_measures_only_the_missing_windows(tmp_path):
    path = experiment(tmp_path)
    out, reports = tmp_path / "results", tmp_path / "reports"
    earlier = out / "earlier-machine" / "kept.json"
    earlier.parent.mkdir(parents=True)
    earlier.write_text('{"kept": true}')
    child = subprocess.Popen(
        [sys.executable, "-m", "joulebench.cli.main", "run", str(path), "--out", str(out),
         "--reports", str(reports), "--quiet"],
        cwd=tmp_path, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while window_lines(out / "unfinished") < 5 and time.monotonic() < deadline:
        assert child.poll() is None, child.communicate()
        time.sleep(0.05)
    os.killpg(child.pid, signal.SIGKILL)  # the run and its workers, at once
    child.wait()
    journal = next((out / "unfinished").glob("exp-*.journal.jsonl"))
    before = read_journal(journal)
    taken = {label: len(ws) for label, ws in before.windows.items()}
    assert before.window_count >= 5 and min(taken.values()) < WINDOWS
    assert [p for p in out.rglob("*.json") if p != earlier] == []  # nothing half-written
    assert not list(out.rglob(".tmp-*"))

    code = main(["run", "--resume", str(journal), "--quiet"])
    assert code == 0
    assert not journal.exists()  # the document holds every window now
    assert earlier.read_text() == '{"kept": true}'
    (document_path,) = [p for p in out.rglob("*.json") if p != earlier]
    document = json.loads(document_path.read_text())
    starts = {w.start_wall_s for ws in before.windows.values() for w in ws}
    for measurement in document["measurements"]:
        label = measurement["label"]
        windows = measurement["windows"]
        assert len(windows) == WINDOWS
        journalled = [w for w in windows if w["start_wall_s"] in starts]
        assert len(journalled) == taken.get(label, 0)  # kept, not measured again
        assert measurement["calls_per_window"] == before.calls[label]
    idle = document["idle_windows"]
    assert sum(w["start_wall_s"] in starts for w in idle) == taken.get("idle", 0)
    assert document["order_seed"] == 7
    assert list(reports.glob("*.html"))


def test_a_finished_run_leaves_no_journal_and_the_next_run_is_told_of_an_unfinished_one(
    tmp_path, capsys
):
    path = experiment(tmp_path, windows=2, min_window_s=0.05)
    out = tmp_path / "results"
    args = ["run", str(path), "--out", str(out), "--reports", str(tmp_path / "reports")]
    assert main([*args, "--quiet"]) == 0
    assert list((out / "unfinished").glob("*")) == []
    (out / "unfinished" / "exp-20261203T000000000000Z.journal.jsonl").write_text("")
    assert main([*args, "--no-journal"]) == 0
    err = capsys.readouterr().err
    assert "an unfinished run of exp is journalled in" in err and "--resume" in err


def test_resume_is_refused_on_another_machine_for_another_experiment_or_with_a_meter(
    tmp_path, capsys, monkeypatch
):
    path = experiment(tmp_path, windows=2, min_window_s=0.05)
    journal = tmp_path / "results" / "unfinished" / "exp-1.journal.jsonl"
    journal.parent.mkdir(parents=True)
    start = {
        "kind": "start", "version": 1, "command": "run", "machine_id": run_cli.this_machine(),
        "experiment": {"not": "an experiment"}, "out": str(tmp_path / "results"),
        "reports": str(tmp_path / "reports"),
    }  # fmt: skip
    journal.write_text(json.dumps(start) + "\n")

    assert main(["run", "--resume", str(journal)]) == 1
    assert "holds no valid experiment" in capsys.readouterr().err
    assert main(["run", "--resume", str(journal), "--meter", "estimate"]) == 1
    assert "leave out --meter" in capsys.readouterr().err
    monkeypatch.setattr(run_cli, "this_machine", lambda: "elsewhere-0000")
    assert main(["run", "--resume", str(journal)]) == 1
    err = capsys.readouterr().err
    assert "resume it on that machine" in err and err.count("\n") == 1
    assert main(["run", "--resume", str(tmp_path / "nope.jsonl")]) == 1
    assert "no run journal at" in capsys.readouterr().err
    assert main(["run"]) == 1
    assert "give the experiment file" in capsys.readouterr().err
    assert path.exists()


def test_a_worker_that_dies_mid_run_costs_the_others_none_of_their_windows(tmp_path, capsys):
    path = experiment(tmp_path, windows=4, min_window_s=0.1)
    out = tmp_path / "results"
    (tmp_path / "models.py").write_text(
        (tmp_path / "models.py").read_text() + "import os, time, pathlib\n"
        f"UNFINISHED = pathlib.Path({str(out / 'unfinished')!r})\n"
        "def dies(batch):\n"
        "    journal = next(UNFINISHED.glob('*.journal.jsonl'), None)\n"
        '    if journal and journal.read_text().count(\'"kind": "window"\') >= 5:\n'
        f"        pathlib.Path({str(tmp_path / 'died-at')!r}).write_text(str(time.time()))\n"
        "        os._exit(3)\n"
        "    return (batch[:, 1] > 0).astype(int)\n"
    )
    path.write_text(
        path.read_text().replace(
            "[meter]", '[[variants]]\nname = "dies"\nfunction = "models.py:dies"\n\n[meter]'
        )
    )
    code = main(["run", str(path), "--out", str(out), "--reports", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 1 and "going on with the others' windows from the journal" in err
    died_at = float((tmp_path / "died-at").read_text())
    (document_path,) = out.rglob("*.json")
    document = json.loads(document_path.read_text())
    assert [f["name"] for f in document["failures"]] == ["dies"]
    for measurement in document["measurements"]:
        starts = [w["start_wall_s"] for w in measurement["windows"]]
        assert len(starts) == 4
        assert min(starts) < died_at  # windows taken before the death were kept
    assert not list((out / "unfinished").glob("*"))


@pytest.mark.slow
def test_ctrl_c_then_resume_sets_the_partial_document_aside_so_no_variant_counts_twice(
    tmp_path, capsys
):
    from joulebench.results import load

    path = experiment(tmp_path)
    out = tmp_path / "results"
    child = subprocess.Popen(
        [sys.executable, "-m", "joulebench.cli.main", "run", str(path), "--out", str(out),
         "--reports", str(tmp_path / "reports"), "--quiet"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    # two rounds of good, half and idle: every workload has an interval's worth of windows,
    # so Ctrl-C keeps them (with fewer it saves nothing, and the journal alone remains)
    while window_lines(out / "unfinished") < 7 and time.monotonic() < deadline:
        assert child.poll() is None, child.communicate()
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)  # Ctrl-C: the run saves what it has
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    (partial,) = [p for p in out.rglob("*.json") if "unfinished" not in p.parts]
    journal = next((out / "unfinished").glob("exp-*.journal.jsonl"))
    assert read_journal(journal).partials == [str(partial)]

    assert main(["run", "--resume", str(journal), "--quiet"]) == 0
    err = capsys.readouterr().err
    aside = out / "unfinished" / "superseded" / partial.name
    assert not partial.exists() and aside.exists()  # kept, out of the results
    assert f"moved to {aside}" in err
    frame = load(out)
    assert sorted(frame["variant"]) == ["good", "half"]  # one row each: not counted twice
    assert (frame["windows"] == WINDOWS).all()
