"""`joulebench run experiment.toml` on a tiny local model and a CSV (estimate meter)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from joulebench.cli.main import main
from joulebench.results import load
from tests.models import make_tiny_bert

EXPERIMENT = """
[task]
data = "reviews.csv"

[[variants]]
name = "base"
path = "tiny"

[[variants]]
name = "int8"
method = "int8"
parent = "base"
path = "tiny"
recipe = {{ quantize = "dynamic-int8" }}

[meter]
name = "estimate"

[protocol]
windows = 2
min_window_s = 0.2
warmup_s = 0.1
warmup_calls = 2

[run]
batch_size = 8
battery = "{battery}"
"""


@pytest.fixture
def experiment(tmp_path):
    make_tiny_bert(tmp_path / "tiny")
    words = ["good", "bad", "film", "plot", "great", "awful", "music"]
    rows = [f"{words[i % 7]} {words[(i * 3) % 7]},{'pos' if i % 2 else 'neg'}" for i in range(80)]
    (tmp_path / "reviews.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    path = tmp_path / "experiment.toml"
    path.write_text(EXPERIMENT.format(battery="powerbank"))
    return path


def test_run_measures_saves_and_reports(experiment, tmp_path, capsys):
    results, reports = str(tmp_path / "results"), str(tmp_path / "reports")
    code = main(["run", str(experiment), "--out", results, "--reports", reports, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    document = json.loads(out)  # --json: stdout is the results document and nothing else
    assert [m["variant"]["name"] for m in document["measurements"]] == ["base", "int8"]
    assert document["extra"]["experiment"]["run"]["battery"] == "powerbank"
    frame = load(tmp_path / "results", battery="powerbank")
    assert sorted(frame["variant"]) == ["base", "int8"]
    assert frame.set_index("variant").loc["int8", "method"] == "int8"
    assert list((tmp_path / "reports").glob("*.html"))

    again = str(tmp_path / "again")
    code = main(["report", results, "--battery", "laptop", "--out", again])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "laptop: 60 Wh" in out and "estimated" in out and "int8" in out
    assert list((tmp_path / "again").glob("*.html"))


def test_run_with_wrong_data_column_is_one_line_and_exit_1(experiment, tmp_path, capsys):
    (tmp_path / "reviews.csv").write_text("sentence,label\nx,pos\ny,neg\n")
    code = main(["run", str(experiment), "--out", str(tmp_path / "results")])
    _, err = capsys.readouterr()
    assert code == 1
    assert "no column 'text'" in err and "Traceback" not in err


def test_run_meter_override_replaces_the_files_meter(experiment, tmp_path, capsys):
    code = main(["run", str(experiment), "--meter", "wattmeter9000", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 1 and "wattmeter9000" in err and len(err.strip().splitlines()) == 1
