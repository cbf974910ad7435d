"""Any model, any task, end to end: the user's callables, their own metric, the image demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from joulebench.results import load

FAST = "meter='simulated', windows=3, min_window_s=0.2, warmup_s=0.1, warmup_calls=2"


def run_script(folder: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = folder / "experiment.py"
    script.write_text(textwrap.dedent(source))
    env = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


TOY = f"""
    import numpy as np
    import joulebench as jb

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    Y = (X[:, 0] > 0).astype(int)

    @jb.variant(name="rule", family="rules", batch_size=16)
    def rule(batch):
        return (batch[:, 0] > 0).astype(int)

    @jb.variant(name="scores", family="linear", method="fitted")
    def scores(batch):
        return np.stack([-batch[:, 0], batch[:, 0]], axis=1)  # scores per class

    def raises(batch):
        raise RuntimeError("weights not found")

    def short(batch):
        return np.zeros(len(batch) - 1, dtype=int)

    def words(batch):
        return "positive"

    def out_of_range(batch):
        return np.full(len(batch), 7)

    if __name__ == "__main__":
        anon = jb.variant(lambda b: b, name="anon")
        outcome = jb.run(
            [rule, scores, raises, short, words, out_of_range, anon],
            task=jb.tasks.from_arrays(X, Y, label_names=["neg", "pos"]), quiet=True, {FAST})
        raise SystemExit(outcome.exit_code)
"""


def test_user_callables_are_measured_and_each_bad_one_is_one_line(tmp_path):
    result = run_script(tmp_path, TOY)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("joulebench: error")]
    expected = {
        "raises": "raised RuntimeError: weights not found while predicting; call it on one batch",
        "short": "returned shape (31,) for a batch of 32; return one prediction per example",
        "words": "returned a str for a batch of 32; return one prediction per example",
        "out_of_range": "prediction 7 is not a label index in 0..1",
        "anon": "define it at the top level of a .py file",
    }
    for name, message in expected.items():
        line = next((e for e in errors if f"variant {name!r}" in e), None)
        assert line is not None, f"no error line for {name}: {result.stderr}"
        assert message in line, line
    assert "Traceback (most recent call last)" not in result.stderr
    frame = load(tmp_path / "results")
    assert sorted(frame["variant"]) == ["rule", "scores"]
    rule = frame.set_index("variant").loc["rule"]
    assert rule["accuracy"] == 1.0 and rule["family"] == "rules" and rule["batch_size"] == 16
    assert pd_isna(rule["params"]) and pd_isna(rule["model_size_bytes"])  # unknown, not 0
    assert frame.set_index("variant").loc["scores", "accuracy"] == 1.0  # argmax of scores
    document = json.loads(next((tmp_path / "results").rglob("*.json")).read_text())
    variant = document["measurements"][0]["variant"]
    assert variant["function"].endswith("experiment.py:rule") and variant["backend"] == "callable"
    assert {f["name"] for f in document["failures"]} == set(expected)
    page = next((tmp_path / "reports").glob("*.html")).read_text()
    assert "rule (rules: base, callable)" in page  # families told apart in the legend


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


GENERIC = f"""
    import math
    import numpy as np
    import joulebench as jb

    INPUTS = np.linspace(0, 1, 60).reshape(60, 1)
    TARGETS = (3 * INPUTS[:, 0]).tolist()

    def mean_error(predictions, labels):
        if all(p == 0 for p in predictions):
            return math.nan  # an evaluator that cannot score an empty answer
        return float(np.mean(np.abs(np.asarray(predictions) - np.asarray(labels))))

    def close(batch):
        return (3 * batch[:, 0] + 0.05).tolist()

    def far(batch):
        return (2 * batch[:, 0]).tolist()

    def empty(batch):
        return [0] * len(batch)

    if __name__ == "__main__":
        task = jb.tasks.generic(INPUTS, TARGETS, mean_error, higher_is_better=False)
        raise SystemExit(jb.run([close, far, empty], task=task, quiet=True, {FAST}).exit_code)
"""


def test_a_metric_of_the_users_own_ranks_lower_is_better_and_a_nan_is_that_variants_failure(
    tmp_path,
):
    result = run_script(tmp_path, GENERIC)
    assert result.returncode == 1
    assert (
        "variant 'empty': its predictions cannot be scored: metric 'mean_error' returned nan"
        in (result.stderr)
    )
    frame = load(tmp_path / "results").set_index("variant")
    assert sorted(frame.index) == ["close", "far"]
    assert frame.loc["close", "score"] == pytest.approx(0.05)
    assert frame.loc["far", "score"] == pytest.approx(0.5, rel=0.05)
    assert frame.loc["close", "score_name"] == "mean_error"
    assert not frame.loc["close", "score_higher_is_better"]
    assert frame["accuracy"].isna().all()
    page = next((tmp_path / "reports").glob("*.html")).read_text()
    assert "mean_error (lower is better)" in page


def test_a_script_that_runs_without_a_main_guard_is_told_to_add_one(tmp_path):
    source = f"""
        import numpy as np
        import joulebench as jb

        def predict(batch):
            return np.zeros(len(batch), dtype=int)

        jb.run([predict], task=jb.tasks.from_arrays(np.zeros((8, 1)), [0, 1] * 4),
               quiet=True, {FAST})
    """
    result = run_script(tmp_path, source)
    assert result.returncode == 1
    assert 'put the call under `if __name__ == "__main__":`' in result.stderr


def test_an_experiment_file_with_callables_arrays_and_a_metric_file(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 2))
    np.savez(tmp_path / "data.npz", x=x, y=(x[:, 1] > 0).astype(int))
    (tmp_path / "models.py").write_text(
        "import numpy as np\n"
        "def good(batch):\n    return (batch[:, 1] > 0).astype(int)\n"
        "def half(batch):\n    return (batch[:, 0] > 0).astype(int)\n"
    )
    (tmp_path / "metrics.py").write_text(
        "import numpy as np\n"
        "def agreement(predictions, labels):\n"
        "    return float(np.mean(np.asarray(predictions) == np.asarray(labels)))\n"
    )
    (tmp_path / "exp.toml").write_text(
        '[task]\ndata = "data.npz"\nmetric = "metrics.py:agreement"\ntest_fraction = 1.0\n\n'
        '[[variants]]\nname = "good"\nfamily = "axis-1"\nfunction = "models.py:good"\n\n'
        '[[variants]]\nname = "half"\nfamily = "axis-0"\nfunction = "models.py:half"\n\n'
        '[[variants]]\nname = "missing"\nfunction = "models.py:nothing_here"\n\n'
        '[meter]\nname = "simulated"\n\n'
        "[protocol]\nwindows = 3\nmin_window_s = 0.2\nwarmup_s = 0.1\nwarmup_calls = 2\n"
    )
    from joulebench.cli.main import main

    out, reports = tmp_path / "results", tmp_path / "reports"
    code = main(["run", str(tmp_path / "exp.toml"), "--out", str(out), "--reports",
                 str(reports), "--quiet"])  # fmt: skip
    assert code == 1
    frame = load(out).set_index("variant")
    assert frame.loc["good", "score"] == 1.0 and frame.loc["good", "score_name"] == "agreement"
    assert 0.2 < frame.loc["half", "score"] < 0.8
    document = json.loads(next(out.rglob("*.json")).read_text())
    assert document["failures"][0]["name"] == "missing"
    assert "has no 'nothing_here'" in document["failures"][0]["error"]
    assert document["task"]["metric"] == "agreement"


@pytest.mark.slow
def test_the_image_demo_measures_different_models_on_one_plot(tmp_path):
    pytest.importorskip("torch")
    from joulebench.cli.main import main

    out, reports = tmp_path / "results", tmp_path / "reports"
    cache = str(tmp_path / "cache")
    code = main(["demo", "--images", "--quick", "--meter", "estimate", "--quiet", "--out",
                 str(out), "--reports", str(reports), "--cache-dir", cache])  # fmt: skip
    assert code == 0
    frame = load(out).set_index("variant")
    assert set(frame.index) == {"cnn-4px", "cnn-8px", "cnn-16px", "mlp", "logistic-regression"}
    assert set(frame["family"]) == {"cnn", "mlp", "linear"}
    assert (frame["accuracy"] > 0.8).all()  # 10 classes: chance is 0.1
    assert frame.loc["mlp", "top5_accuracy"] >= frame.loc["mlp", "accuracy"]
    assert pd_isna(frame.loc["logistic-regression", "top5_accuracy"])  # labels only
    assert (
        frame.loc["cnn-8px", "params"] > 1000 and frame.loc["mlp", "params"] == 64 * 32 + 32 + 330
    )
    assert pd_isna(frame.loc["logistic-regression", "params"])
    # the same CNN at 16 px does about 4x the work of 8 px: it costs more energy
    assert frame.loc["cnn-16px", "energy_j"] > frame.loc["cnn-8px", "energy_j"]
    assert (frame["energy_method"] == "estimated").all()
    assert any(reports.glob("*.html"))
