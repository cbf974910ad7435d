"""`joulebench run --repeat K`: K independent runs, windows tagged by run, between-run figures."""

from __future__ import annotations

import json

import numpy as np

from joulebench.cli.main import main
from joulebench.results.compare import WELCH_RUNS, compare, run_means
from tests.models import array_experiment


def experiment(tmp_path, repeat_line=""):
    protocol = "windows = 3\nmin_window_s = 0.1\nwarmup_s = 0.05\nwarmup_calls = 1\n"
    return array_experiment(tmp_path, protocol, tail=f"\n[run]\n{repeat_line}\n")


def run(tmp_path, name, *extra):
    out = tmp_path / name
    code = main(["run", str(experiment(tmp_path)), "--out", str(out), "--reports",
                 str(tmp_path / "reports"), "--quiet", *extra])  # fmt: skip
    assert code == 0
    return next(out.rglob("*.json"))


def test_three_runs_keep_each_windows_run_and_figures_are_between_runs(tmp_path):
    path = run(tmp_path, "a", "--repeat", "3")
    document = json.loads(path.read_text())
    for m in document["measurements"]:
        assert sorted({w["run"] for w in m["windows"]}) == [0, 1, 2]
        assert len(m["windows"]) == 9
        energy = m["figures"]["energy_per_item_j"]
        assert energy["interval"] == "between-runs" and energy["n"] == 3
        assert energy["mean"] == np.mean(run_means(m, "energy_j"))
        assert m["stopping"]["runs"] == 3 and len(m["stopping"]["per_run"]) == 3
    rounds = [w["round_index"] for w in document["idle_windows"]]
    assert len(rounds) == len(set(rounds)) == 9  # every idle window still its own round
    assert document["extra"]["experiment"]["run"]["repeat"] == 3
    page = next((tmp_path / "reports").glob("*.html")).read_text()
    assert "means of independent runs (--repeat)" in page
    other = run(tmp_path, "b", "--repeat", "2")
    changes, notes = compare(path, other)
    assert {c.test for c in changes if c.metric == "energy_j"} == {WELCH_RUNS}
    assert {(c.runs_a, c.runs_b) for c in changes if c.metric == "energy_j"} == {(3, 2)}
    assert not any("within-run noise only" in n for n in notes)


def test_one_run_says_its_interval_is_within_run_noise_only(tmp_path, capsys):
    a, b = run(tmp_path, "a"), run(tmp_path, "b")
    assert main(["compare", str(a), str(b)]) in (0, 1)
    out = capsys.readouterr().out
    assert "within-run noise only" in out and "--repeat 3" in out


def test_a_bad_repeat_is_one_line(tmp_path, capsys):
    code = main(["run", str(experiment(tmp_path)), "--repeat", "0", "--quiet",
                 "--out", str(tmp_path / "r")])  # fmt: skip
    assert code != 0
    err = capsys.readouterr().err
    assert "--repeat 0" in err and "Traceback" not in err
