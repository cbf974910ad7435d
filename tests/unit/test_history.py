"""History across commits: series in commit order, steps found where they are (and nowhere
else) on seeded series, idle power as the machine's own series, the gate against the recent
past, and the exports."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from scipy import stats

from joulebench.cli.main import main
from joulebench.history.export import bencher_metrics
from joulebench.history.gate import prediction_change
from joulebench.history.series import IDLE, load_points, series
from joulebench.history.steps import detect_steps
from joulebench.history.summary import MACHINE_CHANGE, find_steps, step_rows
from joulebench.testing.history import commit_of, history_documents, write_history


def steps_of(docs, tmp_path):
    grouped = series(load_points([write_history(tmp_path / "results", docs)]))
    return grouped, find_steps(grouped)


def test_a_5_percent_step_in_3_percent_noise_is_found_where_it_is_and_nowhere_else(tmp_path):
    docs = history_documents(np.random.default_rng(1), commits=40, energy_steps={20: 0.05})
    grouped, steps = steps_of(docs, tmp_path)
    energy = ("simulated-machine", "simulated", "model", "energy_j")
    (step,) = steps[energy]
    assert abs(step.index - 20) <= 5  # at 3% noise a 5% step is placed to a few commits
    assert step.ci_low < 0.05 < step.ci_high and step.z > 0
    assert not any(found for key, found in steps.items() if key != energy)
    row = next(r for r in step_rows(grouped, steps) if r["metric"].startswith("energy_j"))
    assert row["what moved"] == "code" and row["to"].startswith(commit_of(step.index)[:8])


def test_stable_series_have_no_steps(tmp_path):
    for seed in range(5):
        docs = history_documents(np.random.default_rng(100 + seed), commits=30)
        _, steps = steps_of(docs, tmp_path / str(seed))
        assert not any(steps.values()), seed


def test_a_step_in_idle_power_alone_is_reported_as_the_machine(tmp_path):
    docs = history_documents(np.random.default_rng(3), commits=30, idle_steps={12: 0.10})
    grouped, steps = steps_of(docs, tmp_path)
    rows = step_rows(grouped, steps)
    assert [r["variant"] for r in rows] == [IDLE]
    assert rows[0]["what moved"] == MACHINE_CHANGE and "+10" in rows[0]["step (95% CI)"]


def test_two_machines_mixed_are_two_series_and_a_run_without_a_commit_keeps_its_time(tmp_path):
    rng = np.random.default_rng(4)
    docs = history_documents(rng, commits=20, energy_steps={10: 0.08})
    docs += history_documents(rng, commits=20, machine_id="laptop")  # same dates, no step
    loose = copy.deepcopy(docs[5])
    loose["provenance"] = None
    loose["run_id"] = "no-commit"
    docs.append(loose)
    grouped, steps = steps_of(docs, tmp_path)
    machines = {key[0] for key in grouped}
    assert machines == {"simulated-machine", "laptop"}
    assert not any(found for key, found in steps.items() if key[0] == "laptop")
    assert [s.index for s in steps[("simulated-machine", "simulated", "model", "energy_j")]]
    points = grouped[("simulated-machine", "simulated", "model", "energy_j")]
    placed = [p.run_id for p in points].index("no-commit")
    assert points[placed].short_commit == "(no commit)"
    assert points[placed - 1].order <= points[placed].order <= points[placed + 1].order


def test_the_step_detector_weights_points_by_their_errors():
    """A jump made of two imprecise points is no step; the same jump in precise ones is."""
    values = [1.0] * 10 + [1.06] * 10
    assert detect_steps(values, [0.001] * 20)
    noisy = detect_steps(values, [0.001] * 10 + [0.2] * 10)
    assert not noisy


def test_the_prediction_interval_covers_a_new_stable_run_95_percent_of_the_time():
    rng = np.random.default_rng(2026)
    runs, inside = 4000, 0
    for _ in range(runs):
        past = rng.normal(1.0, 0.03, 10)
        diff, half, p_value = prediction_change(past, float(rng.normal(1.0, 0.03)))
        inside += abs(diff) <= half
        assert (p_value >= 0.05) == (abs(diff) <= half + 1e-12)
    # binomial sd at 95% over 4,000 runs: 0.34%
    assert 0.94 < inside / runs < 0.96
    diff, half, p_value = prediction_change([1.0, 1.1, 0.9], 1.0)
    assert p_value == pytest.approx(1.0) and half == pytest.approx(
        stats.t.ppf(0.975, 2) * 0.1 * np.sqrt(1 + 1 / 3)
    )


def gate(tmp_path, name, past, candidate, *extra):
    folder = write_history(tmp_path / name / "past", past)
    cand = write_history(tmp_path / name / "candidate", [candidate])
    return main(["compare", "--history", str(folder), "--last", "10", str(cand), *extra])


def test_the_history_gate_fails_a_5_percent_regression_and_passes_an_eleventh_stable_run(
    tmp_path, capsys
):
    regressed = history_documents(np.random.default_rng(7), commits=11, run_noise=0.01,
                                  energy_steps={10: 0.05})  # fmt: skip
    assert gate(tmp_path, "bad", regressed[:10], regressed[10], "--fail-on", "energy_j:+3%") == 1
    assert "REGRESSED" in capsys.readouterr().out
    stable = history_documents(np.random.default_rng(8), commits=11, run_noise=0.01)
    assert gate(tmp_path, "good", stable[:10], stable[10], "--fail-on", "energy_j:+3%") == 0


def test_the_gate_says_what_it_cannot_judge(tmp_path, capsys):
    docs = history_documents(np.random.default_rng(9), commits=3)
    assert gate(tmp_path, "short", docs[:2], docs[2]) == 2
    assert "the gate needs 3" in capsys.readouterr().err
    other = copy.deepcopy(docs[2])
    other["machine_id"] = "another-machine"
    assert gate(tmp_path, "elsewhere", docs[:2], other) == 2
    past = write_history(tmp_path / "x", docs[:2])
    assert main(["compare", "--history", str(past), str(past), str(past)]) == 2


def test_history_prints_series_and_steps_writes_the_page_and_a_bencher_file(tmp_path, capsys):
    docs = history_documents(np.random.default_rng(10), commits=24, energy_steps={12: 0.08})
    results = write_history(tmp_path / "results", docs)
    out, bencher = tmp_path / "reports", tmp_path / "bmf.json"
    assert main(["history", str(results), "--out", str(out), "--bencher", str(bencher)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "Steps (95% intervals)" in printed and "code" in printed
    page = (out / "history.html").read_text(encoding="utf-8")
    assert "energy per inference" in page and "SIMULATED, not measured" in page
    assert "<h2>Steps</h2>" in page and commit_of(12)[:8] in page
    metrics = json.loads(bencher.read_text(encoding="utf-8"))
    newest = max(load_points([results]), key=lambda p: p.order)
    assert set(metrics) == {"model", IDLE}
    energy = metrics["model"]["energy_j_simulated"]  # never passed off as measured
    assert energy["lower_value"] < energy["value"] < energy["upper_value"]
    assert newest.run_id.endswith("023")


def test_bencher_names_measured_energy_plainly():
    docs = history_documents(np.random.default_rng(11), commits=1)
    docs[0]["measurements"][0]["method"] = "counter"
    from joulebench.history.series import points_of

    assert "energy_j" in bencher_metrics(points_of(docs[0]))["model"]


def test_history_of_nothing_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["history", str(tmp_path / "empty")]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_asv_results_hold_one_file_per_commit_with_a_99_percent_interval(tmp_path):
    from joulebench.history.export import asv_results

    docs = history_documents(np.random.default_rng(12), commits=4)
    docs.append(copy.deepcopy(docs[-1]) | {"run_id": "rerun", "created_utc": "2026-09-30T00:00"})
    docs.append(copy.deepcopy(docs[0]) | {"run_id": "nocommit", "provenance": None})
    points = load_points([write_history(tmp_path / "results", docs)])
    files = asv_results(points, tmp_path / "asv")
    assert len(files) == 4  # the rerun replaced its commit's file; no commit, no asv file
    data = json.loads(files[0].read_text(encoding="utf-8"))
    assert data["version"] == 2 and data["commit_hash"] == commit_of(0)
    row = data["results"]["joulebench.model.energy_j_simulated"]  # labelled, not measured
    value, low, high = row[0][0], row[5][0], row[6][0]
    assert low < value < high and dict(zip(data["result_columns"], row, strict=True))["result"] == [
        value
    ]
    machine = json.loads((files[0].parent / "machine.json").read_text(encoding="utf-8"))
    assert machine == {"machine": "simulated-machine", "version": 1}
    listed = json.loads((tmp_path / "asv" / "benchmarks.json").read_text(encoding="utf-8"))
    assert listed["joulebench.model.energy_j_simulated"]["type"] == "track"
    asv = pytest.importorskip("asv.results", reason="asv is not installed: format checked above")
    loaded = asv.Results.load(str(files[0]))
    assert loaded.get_result_value("joulebench.model.energy_j_simulated", []) == [value]
