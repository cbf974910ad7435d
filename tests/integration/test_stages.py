"""Where the time went: every run ends with its stages' wall times (table, results, --json)."""

from __future__ import annotations

import json

from joulebench.cli.main import main
from tests.integration.test_repeat import experiment


def test_a_run_ends_with_its_stages_and_saves_them(tmp_path, capsys):
    path = experiment(tmp_path)
    out = tmp_path / "results"
    args = ["run", str(path), "--out", str(out), "--reports", str(tmp_path / "reports")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Where the time went (wall time)" in printed
    for stage in ("start and load good", "score half", "warm-up and calibration",
                  "energy windows", "save the results and write the report", "total"):  # fmt: skip
        assert stage in printed, stage
    document = json.loads(next(out.rglob("*.json")).read_text())
    stages = {row["stage"]: row for row in document["extra"]["stages"]}
    assert stages["warm-up and calibration"]["times"] == 2  # once per variant, summed
    assert stages["energy windows"]["seconds"] > 0
    total = stages["total"]["seconds"]
    parts = sum(r["seconds"] for name, r in stages.items() if name != "total")
    assert abs(parts - total) < 0.01 * total + 0.01  # the stages and "other" add up
    assert main([*args, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    names = [row["stage"] for row in printed["stages"]]
    assert "save the results and write the report" in names
