from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from joulebench import measure
from joulebench.cli.main import main
from joulebench.devices import SimulatedMeter
from joulebench.results import build_document
from joulebench.results.compare import compare, parse_threshold
from joulebench.testing import BusyTrace, FakeClock

REFERENCE = Path(__file__).parent.parent / "data" / "variants-v1.json"


def run_document(host, seed, noise_frac=0.05, busy_w=25.0):
    clock = FakeClock()
    trace = BusyTrace(clock, 5.0, busy_w)
    meter = SimulatedMeter(trace, noise_frac=noise_frac, seed=seed, clock=clock)
    result = measure(
        trace.workload(0.01),
        meter,
        label="model",
        clock=clock,
        host_probe=host,
        seed=seed,
        warmup_s=0.0,
        windows=8,
    )
    return build_document(result)


def write(tmp_path, name, document):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def scaled(document, factor):
    changed = copy.deepcopy(document)
    for m in changed["measurements"]:
        for w in m["windows"]:
            w["energy_j"] *= factor
    return changed


def test_a_run_compared_with_itself_passes(tmp_path, host, capsys):
    path = write(tmp_path, "a.json", run_document(host, 1))
    assert main(["compare", path, path]) == 0
    out = capsys.readouterr().out
    assert "no regression" in out
    assert "energy method: simulated (NOT measured" in out


def test_thirty_percent_more_energy_fails_and_three_percent_under_a_five_percent_limit_passes(
    tmp_path, host, capsys
):
    base = run_document(host, 1, noise_frac=0.01)
    a = write(tmp_path, "a.json", base)
    assert main(["compare", a, write(tmp_path, "b.json", scaled(base, 1.30))]) == 1
    out = capsys.readouterr().out
    assert "REGRESSED" in out and "+30.0%" in out
    changes, _ = compare(a, write(tmp_path, "c.json", scaled(base, 1.03)), ["energy_j:+5%"])
    energy = next(c for c in changes if c.metric == "energy_j")
    assert energy.verdict == "within threshold" and energy.p_value < 0.05  # real but small
    assert main(["compare", a, str(tmp_path / "c.json"), "--fail-on", "energy_j:+5%"]) == 0


def test_runs_that_differ_only_by_noise_pass_in_at_least_95_percent_of_trials(tmp_path, host):
    passes = 0
    trials = 40
    for seed in range(trials):
        a = write(tmp_path, f"a{seed}.json", run_document(host, 2 * seed))
        b = write(tmp_path, f"b{seed}.json", run_document(host, 2 * seed + 1))
        changes, _ = compare(a, b)
        passes += not any(c.verdict == "regressed" for c in changes)
    assert passes / trials >= 0.95


def test_accuracy_drop_beyond_a_point_and_significant_is_a_regression(tmp_path):
    base = json.loads(REFERENCE.read_text())
    for m in base["measurements"]:
        m["variant"]["accuracy"].update(value=0.90, correct=900, n=1000)
    worse = copy.deepcopy(base)
    for m in worse["measurements"]:
        m["variant"]["accuracy"].update(value=0.85, correct=850, n=1000)
    changes, _ = compare(write(tmp_path, "a.json", base), write(tmp_path, "b.json", worse))
    accuracy = [c for c in changes if c.metric == "accuracy"]
    assert [c.verdict for c in accuracy] == ["regressed", "regressed"]
    assert accuracy[0].change == pytest.approx(-0.05)
    assert accuracy[0].ci_low < -0.05 < accuracy[0].ci_high


def test_different_machines_are_refused_unless_allowed(tmp_path, host, capsys):
    base = run_document(host, 1)
    other = copy.deepcopy(base)
    other["machine_id"] = "elsewhere-12345678"
    a, b = write(tmp_path, "a.json", base), write(tmp_path, "b.json", other)
    assert main(["compare", a, b]) == 2
    assert "machines differ" in capsys.readouterr().err
    assert main(["compare", a, b, "--allow-different-hardware", "--format", "md"]) == 0
    assert "compared anyway" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["{broken", '{"schema_version": 99}'])
def test_malformed_or_missing_input_is_one_line_and_exit_2(tmp_path, capsys, bad):
    path = tmp_path / "bad.json"
    path.write_text(bad)
    assert main(["compare", str(path), str(REFERENCE)]) == 2
    assert main(["compare", str(tmp_path / "missing.json"), str(REFERENCE)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("joulebench: error") == 2


def test_thresholds_parse_and_bad_ones_are_refused():
    t = parse_threshold("energy_j:+5%")
    assert (t.metric, t.sign, t.amount, t.relative) == ("energy_j", 1, 0.05, True)
    t = parse_threshold("accuracy:-1pt")
    assert (t.sign, t.amount, t.relative) == (-1, 0.01, False)
    for bad in ("energy:+5%", "energy_j:5%", "time_s:+1pt"):
        with pytest.raises(Exception, match="threshold"):
            parse_threshold(bad)


def test_json_output_lists_changes(tmp_path, host, capsys):
    path = write(tmp_path, "a.json", run_document(host, 1))
    assert main(["compare", path, path, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["regressed"] == 0
    assert {c["metric"] for c in report["changes"]} == {"energy_j", "time_s"}
