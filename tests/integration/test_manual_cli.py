"""The course-team flow end to end: readings tables, meter logs and the interactive recording."""

from __future__ import annotations

import builtins
import json
import re
from pathlib import Path

import pytest

from joulebench import measure_many
from joulebench.cli.main import main
from joulebench.devices import SimulatedMeter
from joulebench.results import load, read_document, save
from joulebench.testing import BusyTrace, FakeClock, write_meter_log

DATA = Path(__file__).parent.parent / "data"
VARIANTS = DATA / "variants-v1.json"  # base and int8, accuracy 0.5 on 30 examples

TABLE = """variant;inferences;start (mWh);end (mWh);duration_s;charging
base;500;1000,0;1004,1;62,1;no
base;500;1004,1;1008,3;63,0;no
base;500;1008,3;1012,2;61,7;
int8;500;1012,2;1014,1;40,3;
int8;500;1014,1;1016,2;41,0;
int8;500;1016,2;1018,0;39,9;
int8;500;1018,0;1019,9;40,2;yes
idle;0;1019,9;1020,8;60;
idle;0;1020,8;1021,7;60;
"""


def only_results(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.json") if ".recording" not in p.parts)


def test_import_readings_joins_accuracy_and_reports_per_device(tmp_path, capsys):
    table = tmp_path / "readings.csv"
    table.write_text(TABLE)
    out = tmp_path / "results"
    code = main(
        ["import-readings", str(table), "--device", "pixel7", "--accuracy-from", str(VARIANTS),
         "--resolution", "0.1", "--meter-accuracy", "1%+20mW", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    (path,) = only_results(out)
    assert path.parent.name == "pixel7"
    document = read_document(path)
    assert document["machine"]["device"] == "pixel7" and document["machine"]["external"]
    frame = load(path).set_index("variant")
    # base: (4.1 + 4.2 + 3.9) mWh / 500 inferences each
    expected = [4.1, 4.2, 3.9]
    mean_j = sum(e * 3.6 / 500 for e in expected) / 3
    assert frame.loc["base", "energy_j"] == pytest.approx(mean_j)
    # the meter's own accuracy, from its manual: 1% of the reading + 20 mW x the time
    systematic = document["measurements"][0]["systematic"]
    assert systematic["accuracy"]["rel_frac"] == pytest.approx(0.01)
    assert systematic["accuracy"]["offset_w"] == pytest.approx(0.02)
    assert frame.loc["base", "energy_j_systematic"] > 0.01 * mean_j
    assert frame.loc["base", "meter_accuracy"] == pytest.approx(0.01)
    assert frame.loc["base", "energy_method"] == "manual"
    assert frame.loc["base", "manual_form"] == "counter"
    assert frame.loc["base", "confidence"] == "high"
    assert frame.loc["base", "accuracy"] == pytest.approx(0.5)  # joined from the laptop run
    assert frame.loc["base", "net_energy_j"] < frame.loc["base", "energy_j"]
    assert frame.loc["int8", "windows"] == 3  # the charging row is void, not counted
    assert "void" in frame.loc["int8", "flags"] and "low-resolution" in frame.loc["int8", "flags"]
    assert frame.loc["int8", "latency_p50_s"] is None  # the laptop's latency is not the phone's
    variant = document["measurements"][0]["variant"]
    assert variant["details"]["accuracy_from"]["machine_id"] == "reference-host-00000000"
    printed = capsys.readouterr()
    assert "manual:" in printed.out and "counter" in printed.out and "Saved:" in printed.out
    assert "marked charging" in printed.err and "low-resolution" in printed.err


def test_the_report_shows_phone_points_next_to_laptop_points(tmp_path):
    table = tmp_path / "readings.csv"
    table.write_text(TABLE)
    out = tmp_path / "results"
    (out / "laptop").mkdir(parents=True)
    (out / "laptop" / VARIANTS.name).write_bytes(VARIANTS.read_bytes())
    assert main(["import-readings", str(table), "--device", "pixel7", "--accuracy-from",
                 str(out / "laptop"), "--out", str(out)]) == 0  # fmt: skip
    assert main(["report", str(out), "--format", "md", "--out", str(tmp_path / "rep")]) == 0
    (markdown,) = (tmp_path / "rep").glob("*.md")
    text = markdown.read_text()
    assert "| device |" in text and "| pixel7 |" in text and "reference-host-00000000" in text
    assert "manual: counter (high confidence)" in text
    assert "Manual meter readings on pixel7" in text


def test_phone_battery_counter_counts_down(tmp_path):
    table = tmp_path / "phone.csv"
    table.write_text(
        "variant,inferences,start,end,duration_s\n"
        "int8,1000,3000000,2999000,100\nint8,1000,2999000,2998100,100\n"
    )
    out = tmp_path / "results"
    assert main(["import-readings", str(table), "--device", "pixel7", "--scope", "battery",
                 "--unit", "uAh", "--voltage-v", "3.87", "--out", str(out)]) == 0  # fmt: skip
    frame = load(out)
    assert frame["energy_j"].iloc[0] == pytest.approx((1000 + 900) / 2 * 3.6e-3 * 3.87 / 1000)
    assert frame["scope"].iloc[0] == "battery"


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("variant,start (mWh),end (mWh),duration_s\nbase,1,2,60\nbase,2,3,60\n", [],
         "row 2: no inference count for 'base'"),
        ("variant,inferences,start (mWh),end (mWh),duration_s\nbase,10,5,4,60\n", [],
         r"row 2.*lower than the start reading"),
        ("variant,inferences,start,end,duration_s\nbase,10,1,2,60\n", ["--unit", "kcal"],
         "unknown energy unit 'kcal'"),
        ("variant,inferences,start,end,duration_s\nbase,10,1,2,60\n", ["--unit", "mAh"],
         "needs the bus voltage"),
        ("variant,inferences,start (mWh),end (mWh)\nbase,10,1,2\n", [], "needs a duration_s"),
        ("variant,inferences,duration_s\nbase,10,60\n", [], "needs start and end counter"),
        ("variant,inferences,energy_J,duration_s\nbase,10,abc,60\n", [],
         r"row 2, column 'energy_J'.*not a number"),
        ("variant,inferences,energy_J,duration_s\nbase,10,5,60\n", [],
         "1 usable window.*at least 2"),
        ("model_name,inferences\n", [], "has no 'variant' column"),
        ("variant,inferences,energy_J,duration_s\nbase,10,5,60\nbase,10,5,60\n",
         ["--meter-accuracy", "about 1"], "is not like 1% or 0.5%"),
    ],
)  # fmt: skip
def test_bad_readings_give_one_line_and_exit_1_and_save_nothing(
    tmp_path, capsys, content, extra, message
):
    table = tmp_path / "bad.csv"
    table.write_text(content)
    out = tmp_path / "results"
    code = main(["import-readings", str(table), "--device", "pixel7", "--out", str(out), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert re.search(message, err), err
    assert not only_results(out)


def test_missing_readings_file_is_one_line(tmp_path, capsys):
    assert main(["import-readings", str(tmp_path / "no.csv"), "--device", "x",
                 "--out", str(tmp_path)]) == 1  # fmt: skip
    assert "does not exist" in capsys.readouterr().err


# --- import-log ----------------------------------------------------------------------------
def simulated_run(tmp_path, host):
    clock = FakeClock(wall_origin_s=1_795_000_000.0)
    trace = BusyTrace(clock, idle_w=2.0, busy_w=6.0)
    meter = SimulatedMeter(trace, clock=clock)
    results = measure_many(
        {"A": trace.workload(0.01), "B": trace.workload(0.03)},
        meter, clock=clock, host_probe=host, seed=0, warmup_s=0.0, min_window_s=20.0,
    )  # fmt: skip
    return save(results, tmp_path / "results"), clock, trace


@pytest.mark.parametrize("offset", ["-2.5", "auto"])
def test_import_log_remakes_the_runs_energy_from_the_meters_log(tmp_path, host, capsys, offset):
    run_path, clock, trace = simulated_run(tmp_path, host)
    before = run_path.read_bytes()
    origin = clock.wall_origin_s + trace.origin_s
    log = write_meter_log(
        tmp_path / "um25c.csv",
        lambda t: trace(t - origin - 2.5),  # the meter's clock is 2.5 s ahead
        start_unix_s=origin - 5.0,
        duration_s=clock.now_s + 10.0,
        rate_hz=10.0,
        noise_frac=0.02,
        style="um25c",
        tz="Asia/Tokyo",
    )
    code = main(["import-log", str(log), "--run", str(run_path), "--clock-offset-s", offset,
                 "--tz", "Asia/Tokyo", "--out", str(tmp_path / "results")])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert ("Clock offset found from the log: -2.5" in out) == (offset == "auto")
    assert run_path.read_bytes() == before  # the run is untouched
    new = [p for p in only_results(tmp_path / "results") if p != run_path]
    frame = load(new[0]).set_index("label")
    assert frame.loc["A", "energy_method"] == "manual" and frame.loc["A", "manual_form"] == "log"
    assert frame.loc["A", "energy_per_item_j"] == pytest.approx(6.0 * 0.01, rel=0.01)
    assert frame.loc["B", "energy_per_item_j"] == pytest.approx(6.0 * 0.03, rel=0.01)
    assert frame.loc["A", "net_energy_per_item_j"] == pytest.approx(4.0 * 0.01, rel=0.03)
    document = read_document(new[0])
    assert document["extra"]["clock_offset_s"] == pytest.approx(-2.5, abs=0.05)
    assert document["extra"]["from_run"]["file"] == str(run_path)
    assert document["machine_id"] == read_document(run_path)["machine_id"]


def test_import_log_that_misses_the_run_says_so(tmp_path, host, capsys):
    run_path, _, _ = simulated_run(tmp_path, host)
    log = write_meter_log(
        tmp_path / "log.csv", lambda t: 3.0, start_unix_s=1_600_000_000, duration_s=60, rate_hz=1
    )
    code = main(["import-log", str(log), "--run", str(run_path), "--out", str(tmp_path / "r2")])
    err = capsys.readouterr().err
    assert code == 1 and "window 1 runs" in err and "--clock-offset-s" in err
    assert not only_results(tmp_path / "r2")


# --- record --------------------------------------------------------------------------------
def feed(monkeypatch, answers: list[str]) -> None:
    """Answer input() prompts from ``answers``; then the input ends (EOF)."""
    queue = list(answers)

    def fake_input(prompt: str = "") -> str:
        if not queue:
            raise EOFError
        return queue.pop(0)

    monkeypatch.setattr(builtins, "input", fake_input)


RECORD = ["record", "--device", "pixel7", "--variant", "base", "--windows", "3",
          "--idle-windows", "2", "--window-s", "0.01", "--inferences", "500"]  # fmt: skip


def test_record_through_stdin_with_a_redo_an_interruption_and_a_resume(
    tmp_path, monkeypatch, capsys
):
    out = tmp_path / "results"
    args = [*RECORD, "--out", str(out), "--accuracy-from", str(VARIANTS)]
    # window 1 fine; window 2: a typo, then the person types r and redoes it; input then ends
    feed(monkeypatch, ["1000", "1004.1", "", "1004.1", "r", "1004.1", "1008.3", ""])
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "redoing this window" in captured.out
    assert "2 window(s) are saved" in captured.err and "--resume" in captured.err
    assert not only_results(out)
    progress = json.loads((out / ".recording" / "pixel7--base.json").read_text())
    assert len(progress["windows"]) == 2
    # running without --resume refuses to clobber the unfinished recording
    assert main(args) == 1
    assert "unfinished" in capsys.readouterr().err
    # an unfinished recording is not a result: the results folder still reports
    (out / "laptop").mkdir()
    (out / "laptop" / VARIANTS.name).write_bytes(VARIANTS.read_bytes())
    assert len(load(out)) == 2
    capsys.readouterr()
    # resume: window 3 (inference count typed), then two idle windows
    feed(monkeypatch, ["1008.3", "1012.2", "500", "1012.2", "1013.1", "1013.1", "1014.0"])
    assert main([*args, "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "Resuming: 2 window(s)" in printed and "so far:" in printed
    (path,) = [p for p in only_results(out) if "laptop" not in p.parts]
    frame = load(path)
    assert frame["energy_j"].iloc[0] == pytest.approx((4.1 + 4.2 + 3.9) / 3 * 3.6 / 500)
    assert frame["accuracy"].iloc[0] == pytest.approx(0.5)
    assert not (out / ".recording" / "pixel7--base.json").exists()


def test_record_a_battery_that_charged_voids_the_window(tmp_path, monkeypatch, capsys):
    out = tmp_path / "results"
    args = [*RECORD, "--out", str(out), "--scope", "battery", "--unit", "uAh",
            "--voltage-v", "3.87", "--idle-windows", "0"]  # fmt: skip
    feed(
        monkeypatch,
        ["3000000", "2999000", "", "2999000", "2999500", "",  # 2nd window: charging -> void
         "2999500", "2998600", "", "2998600", "2997700", ""],
    )  # fmt: skip
    assert main(args) == 0
    assert "void" in capsys.readouterr().out
    frame = load(out)
    assert frame["windows"].iloc[0] == 3 and "void" in frame["flags"].iloc[0]


# --- the committed sample of docs/manual-meters.md -----------------------------------------
EXAMPLES = Path(__file__).parent.parent.parent / "docs" / "examples"


def test_the_committed_phone_sample_gives_the_known_energy(tmp_path, capsys):
    out = tmp_path / "results"
    code = main(
        ["import-readings", str(EXAMPLES / "phone-windows.csv"), "--device", "pixel7",
         "--log", str(EXAMPLES / "phone-usb-meter-log.csv"), "--tz", "Europe/Berlin",
         "--out", str(out)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    frame = load(out).set_index("variant")
    # the sample's truth: 3.4 W and 2.3 W for 60 s windows of 1500 and 3300 inferences
    assert frame.loc["base-fp32", "energy_j"] == pytest.approx(3.4 * 60 / 1500, rel=0.01)
    assert frame.loc["int8-torch", "energy_j"] == pytest.approx(2.3 * 60 / 3300, rel=0.01)
    assert frame.loc["int8-torch", "net_energy_j"] == pytest.approx(1.2 * 60 / 3300, rel=0.03)
    assert set(frame["manual_form"]) == {"log"} and set(frame["confidence"]) == {"medium"}


def test_a_phone_battery_log_counts_discharge_and_voids_charging_windows(tmp_path, capsys):
    start = 1_795_000_000
    samples = []
    for i in range(0, 400):  # 2 Hz for 200 s; the phone charges from 120 s to 130 s
        t = start + i / 2
        current_ua = 300_000 if 120 <= i / 2 < 130 else -500_000
        samples.append(f"{t:.1f},{current_ua},3900000")
    log = tmp_path / "battery.csv"
    log.write_text("time,current_now_uA,voltage_now_uV\n" + "\n".join(samples) + "\n")
    windows = tmp_path / "windows.csv"
    rows = [(10, 40), (50, 80), (90, 110), (115, 135), (140, 170)]
    windows.write_text(
        "variant,inferences,start_time,end_time\n"
        + "".join(f"int8,100,{start + a},{start + b}\n" for a, b in rows)
    )
    out = tmp_path / "results"
    code = main(["import-readings", str(windows), "--device", "pixel7", "--scope", "battery",
                 "--log", str(log), "--battery-log", "--out", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "charging during window" in capsys.readouterr().err
    frame = load(out)
    assert frame["windows"].iloc[0] == 4  # the window with charging samples is void
    assert frame["power_w"].iloc[0] == pytest.approx(0.5 * 3.9)
    assert "void" in frame["flags"].iloc[0]


def test_an_implausible_window_is_flagged_not_dropped(tmp_path):
    table = tmp_path / "readings.csv"
    rows = [(0, 4.1), (4.1, 8.2), (8.2, 12.4), (12.4, 24.9), (24.9, 29.0)]  # window 4: 3x
    table.write_text(
        "variant,inferences,start (mWh),end (mWh),duration_s\n"
        + "".join(f"base,500,{a},{b},60\n" for a, b in rows)
    )
    out = tmp_path / "results"
    assert main(["import-readings", str(table), "--device", "pixel7", "--out", str(out)]) == 0
    frame = load(out)
    assert frame["windows"].iloc[0] == 5 and "outlier" in frame["flags"].iloc[0]
