"""The `joules` fixture in a real pytest session, with pytest-benchmark, then compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from joulebench.cli.main import main
from joulebench.results import load

pytest.importorskip("pytest_benchmark")

TEST_FILE = """
def test_sum(joules):
    assert joules(sum, range(2000)) == 1999000
"""
FAST = [
    *("--joules-meter", "simulated", "--joules-windows", "5", "--joules-min-window-s", "0.2"),
    *("--benchmark-max-time", "0.01", "--benchmark-min-rounds", "1", "-p", "no:cacheprovider"),
]


def run_session(pytester: pytest.Pytester, *extra: str) -> tuple[pytest.RunResult, Path]:
    pytester.makepyfile(test_work=TEST_FILE)
    out = pytester.path / "bench.json"
    result = pytester.runpytest_subprocess(*FAST, f"--benchmark-json={out}", *extra)
    return result, out


def test_joules_stores_energy_in_pytest_benchmarks_json(pytester, capsys):
    # 12 windows, not 5: a 20 us call's windows vary by ~40% on a busy 2-core VM, and with 5 a
    # doubled energy once came out at p = 0.08 after Holm's correction (CI saw it)
    result, out = run_session(pytester, "--benchmark-joules", "--joules-windows", "12")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*joulebench: energy per call*", "*test_sum*mJ*NOT measured*"])
    data = json.loads(out.read_text())
    (bench,) = data["benchmarks"]
    record = bench["extra_info"]["joulebench"]
    assert record["method"] == "simulated" and record["energy_per_call_j"] > 0
    assert bench["stats"]["mean"] > 0  # pytest-benchmark timed it as usual
    # joulebench reads the file: a frame row, and a compare of the file with itself passes
    frame = load(out)
    assert frame["label"].iloc[0].endswith("test_sum")
    assert frame["energy_method"].iloc[0] == "simulated"
    assert main(["compare", str(out), str(out), "--allow-different-hardware"]) == 0
    # the same benchmark with every window's energy doubled is a regression
    raised = json.loads(out.read_text())
    measurement = raised["benchmarks"][0]["extra_info"]["joulebench"]["measurement"]
    for window in measurement["windows"]:
        window["energy_j"] *= 2.0
    worse = pytester.path / "worse.json"
    worse.write_text(json.dumps(raised))
    capsys.readouterr()
    code = main(["compare", str(out), str(worse), "--allow-different-hardware"])
    printed = capsys.readouterr().out
    assert code == 1, printed
    assert "1 regression(s): test_work.py::test_sum energy_j" in printed


def test_without_the_flag_only_time_is_measured(pytester):
    result, out = run_session(pytester)
    result.assert_outcomes(passed=1)
    assert "joulebench: energy per call" not in result.stdout.str()
    record = json.loads(out.read_text())["benchmarks"][0]["extra_info"]["joulebench"]
    assert record == {"measured": False, "reason": "run pytest with --benchmark-joules"}


def test_a_pytest_benchmark_file_without_energy_is_one_line(tmp_path, capsys):
    path = tmp_path / "0001_plain.json"
    path.write_text(json.dumps({"machine_info": {}, "commit_info": {}, "benchmarks": [
        {"name": "test_x", "fullname": "t.py::test_x", "stats": {"mean": 1.0}, "extra_info": {}}
    ], "datetime": "2026-11-23T14:00:00", "version": "5.1.0"}))  # fmt: skip
    assert main(["compare", str(path), str(path)]) == 2
    assert "no energy in it" in capsys.readouterr().err
