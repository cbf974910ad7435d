"""Whole-device calibration: the fit recovers a known line from a simulated wall log, its
intervals cover at the stated rate, flat or noisy fits are refused, and the calibrated columns
reach every report format, labelled, with the fit's uncertainty carried into them."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from joulebench.batteries import battery
from joulebench.calibration import (
    Calibration,
    calibrate,
    fit_line,
    load_profiles,
    save,
    whole_device,
)
from joulebench.cli.main import main
from joulebench.devices.meterlog import read_log
from joulebench.errors import UserError
from joulebench.reports.calibrated import add_calibrated
from joulebench.reports.plots import scatter
from joulebench.results.frame import load
from joulebench.testing.calibration import counter_run, wall_log

SLOPE, INTERCEPT_W = 1.25, 30.0


@pytest.fixture
def simulated(tmp_path):
    document = counter_run(np.random.default_rng(7), accuracies=[0.80, 0.88, 0.92, 0.95])
    results = tmp_path / "results"
    results.mkdir()
    (results / "run.json").write_text(json.dumps(document))
    log = wall_log(tmp_path / "wall.csv", document, slope=SLOPE, intercept_w=INTERCEPT_W)
    return document, results / "run.json", log


def test_the_fit_recovers_a_known_line_from_a_simulated_wall_log(simulated):
    document, _, log = simulated
    calibration = calibrate(document, read_log(log), name="wall")
    low, high = calibration.interval("slope")
    assert low <= SLOPE <= high and high - low < 0.05
    low, high = calibration.interval("intercept")
    assert low <= INTERCEPT_W <= high and high - low < 2.0
    assert calibration.windows == 4 * 5 + 5  # every window, idle ones included
    auto = calibrate(document, read_log(log), name="wall", clock_offset_s="auto")
    assert abs(auto.clock_offset_s) < 0.05 and auto.slope == pytest.approx(calibration.slope, 1e-3)


def test_the_line_is_scipys_least_squares_line():
    rng = np.random.default_rng(3)
    x = np.repeat([4.0, 12.0, 25.0, 40.0, 55.0], 4) * (1 + 0.01 * rng.standard_normal(20))
    y = SLOPE * x + INTERCEPT_W + 0.3 * rng.standard_normal(20)
    fit, line = fit_line(x, y), stats.linregress(x, y)
    assert fit.slope == pytest.approx(line.slope) and fit.intercept_w == pytest.approx(
        line.intercept
    )
    # with equal noise the HC3 errors are near the plain ones (not equal: they estimate apart)
    assert 0.5 < fit.slope_se / line.stderr < 2.0


def test_the_fits_95_percent_intervals_cover_the_truth_about_95_percent_of_the_time():
    """Noise proportional to power (a meter's): plain least-squares errors covered 91% here."""
    rng = np.random.default_rng(20261202)
    runs, covered = 1000, np.zeros(2)
    for _ in range(runs):
        x = np.repeat([4.0, 12.0, 25.0, 40.0, 55.0], 5) * (1 + 0.01 * rng.standard_normal(25))
        y = (SLOPE * x + INTERCEPT_W) * (1 + 0.005 * rng.standard_normal(25))
        fit = fit_line(x, y)
        t = stats.t.ppf(0.975, fit.windows - 2)
        covered += (abs(fit.slope - SLOPE) <= t * fit.slope_se,
                    abs(fit.intercept_w - INTERCEPT_W) <= t * fit.intercept_se_w)  # fmt: skip
    # binomial sd at 95% over 1,000 runs is 0.7%: 0.925..0.975 is more than 3 sd either way
    assert np.all(covered / runs > 0.925) and np.all(covered / runs < 0.975), covered / runs


def profile(fit_slope_se: float = 0.01, intercept_se_w: float = 0.5) -> Calibration:
    return Calibration(
        name="wall", machine_id="m", meter="simulated", scope="package+dram",
        whole_scope="wall", slope=SLOPE, slope_se=fit_slope_se, intercept_w=INTERCEPT_W,
        intercept_se_w=intercept_se_w, covariance=-20 * fit_slope_se**2, windows=25,
        component_range_w=(4.0, 55.0), residual_std_w=0.3, run_id="r", log="wall.csv",
        clock_offset_s=0.0, created_utc="2026-12-02T00:00:00+00:00",
    )  # fmt: skip


def test_calibrated_energy_is_a_times_energy_plus_b_times_time_with_the_fits_uncertainty():
    windows = [{"items": 100, "energy_j": 5.0 * (1 + d), "duration_s": 0.2 * (1 - d)}
               for d in (-0.01, 0.0, 0.01, 0.02, -0.02)]  # fmt: skip
    measurement = {"label": "v", "windows": windows,
                   "figures": {"energy_per_item_j": {"interval": "student-t"}}}  # fmt: skip
    exact = whole_device(measurement, profile(0.0, 0.0))
    per_item = [SLOPE * w["energy_j"] / 100 + INTERCEPT_W * w["duration_s"] / 100 for w in windows]
    assert exact.energy_j == pytest.approx(np.mean(per_item))
    plain = stats.t.ppf(0.975, 4) * np.std(per_item, ddof=1) / np.sqrt(5)
    assert exact.ci95_j == pytest.approx(plain)  # no fit uncertainty: the run's own interval
    widened = whole_device(measurement, profile(0.05, 2.0))
    assert widened.energy_j == pytest.approx(exact.energy_j)
    assert widened.ci95_j > 2 * exact.ci95_j


def test_a_flat_or_noisy_fit_is_refused_with_how_to_get_a_good_one():
    rng = np.random.default_rng(1)
    flat = 40.0 * (1 + 0.01 * rng.standard_normal(20))
    with pytest.raises(UserError, match="variants of different load"):
        fit_line(flat, SLOPE * flat + INTERCEPT_W)
    x = np.repeat([5.0, 50.0], 5)
    with pytest.raises(UserError, match="too uncertain"):
        fit_line(x, SLOPE * x + INTERCEPT_W + 40 * rng.standard_normal(10))
    with pytest.raises(UserError, match="at least 6 windows"):
        fit_line([1.0, 20.0, 40.0], [31.0, 55.0, 80.0])


def test_an_estimated_run_cannot_be_calibrated(simulated):
    document, _, log = simulated
    estimated = copy.deepcopy(document)
    for m in estimated["measurements"]:
        m.update(meter="estimate", method="estimated")
    with pytest.raises(UserError, match="hardware counter"):
        calibrate(estimated, read_log(log), name="wall")


def test_profiles_are_kept_per_machine_and_never_replaced_silently(simulated, tmp_path):
    document, _, log = simulated
    calibration = calibrate(document, read_log(log), name="wall")
    root = tmp_path / "calibrations"
    path = save(calibration, root)
    assert path == root / document["machine_id"] / "wall.json"
    with pytest.raises(UserError, match="already exists"):
        save(calibration, root)
    save(calibration, root, replace=True)
    loaded = load_profiles(root, "wall")
    assert loaded[document["machine_id"]] == calibration
    with pytest.raises(UserError, match="no calibration named 'desk'"):
        load_profiles(root, "desk")
    with pytest.raises(UserError, match="calibration name"):
        load_profiles(root, "../etc")


def test_report_with_a_calibration_labels_its_columns_in_every_format(simulated, tmp_path, capsys):
    document, run_file, log = simulated
    cals, out = tmp_path / "cals", tmp_path / "reports"
    assert main(["calibrate", str(run_file), str(log), "--name", "wall",
                 "--calibrations", str(cals)]) == 0  # fmt: skip
    assert "whole device (wall) = 1.2" in capsys.readouterr().out
    assert main(["report", str(run_file.parent), "--calibration", "wall", "--calibrations",
                 str(cals), "--format", "html,md,tex,csv,methods", "--out", str(out),
                 "--wide"]) == 0  # fmt: skip
    printed = " ".join(capsys.readouterr().out.split())  # the terminal wraps headings
    assert "Whole device (calibrated) on lab-pc-0000sim: whole device (wall) = 1.2" in printed
    files = {p.suffixes[-1] if len(p.suffixes) == 1 else "".join(p.suffixes[-2:]): p
             for p in out.iterdir()}  # fmt: skip
    for suffix in (".md", ".tex", ".html"):
        text = files[suffix].read_text(encoding="utf-8")
        assert "whole device" in text and "calibrated" in text, suffix
        assert "Whole device (calibrated) on lab-pc-0000sim" in text, suffix  # the model
        assert "SIMULATED" in text or "simulated" in text, suffix  # simulated stays labelled
    csv = files[".csv"].read_text(encoding="utf-8").splitlines()
    assert "whole_energy_j" in csv[0] and "calibration" in csv[0]
    methods = files[".methods.md"].read_text(encoding="utf-8")
    assert "### Whole-device calibration" in methods and "MacKinnon and White, 1985" in methods
    # truth per inference: 1.25 x the simulated counter's energy + 30 W x the window's time
    measurement = document["measurements"][0]
    truth = np.mean([(SLOPE * w["energy_j"] + INTERCEPT_W * w["duration_s"]) / w["items"]
                     for w in measurement["windows"]])  # fmt: skip
    frame = pd.read_csv(files[".csv"])
    row = frame[frame["label"] == measurement["label"]].iloc[0]
    assert abs(row["whole_energy_j"] - truth) <= row["whole_energy_j_ci95"]


def test_a_run_from_another_machine_or_meter_is_not_calibrated_and_says_why(
    simulated, tmp_path, capsys
):
    document, run_file, log = simulated
    cals = tmp_path / "cals"
    save(calibrate(document, read_log(log), name="wall"), cals)
    other = copy.deepcopy(document)
    other.update(run_id="elsewhere", machine_id="other-pc-1")
    changed = copy.deepcopy(document)
    changed["run_id"] = "after-a-kernel-update"
    changed["machine"]["kernel"] = "6.9.1"
    for doc in (other, changed):
        (run_file.parent / f"{doc['run_id']}.json").write_text(json.dumps(doc))
    assert main(["report", str(run_file.parent), "--calibration", "wall", "--calibrations",
                 str(cals), "--out", str(tmp_path / "r"), "--format", "csv"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "no calibration 'wall' for machine other-pc-1" in printed
    assert "kernel '6.8.0' -> '6.9.1'" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["calibrate", "{run}", "{missing}", "--name", "w"], "does not exist"),
        (["calibrate", "{run}", "{log}", "--name", "w", "--clock-offset-s", "500"],
         "check the clock offset"),
        (["calibrate", "{run}", "{log}", "--name", "a/b"], "calibration name"),
        (["report", "{results}", "--calibration", "w", "--format", "csv"], "no calibration named"),
        (["report", "{results}", "--calibration", "damaged", "--format", "csv"], "damaged"),
    ],
)  # fmt: skip
def test_bad_inputs_are_one_line_and_exit_1(simulated, tmp_path, capsys, args, message):
    _, run_file, log = simulated
    cals = tmp_path / "cals"
    (cals / "lab-pc-0000sim").mkdir(parents=True)
    (cals / "lab-pc-0000sim" / "damaged.json").write_text('{"kind": "joulebench-calibration", '
                                                         '"slope": "steep"}')  # fmt: skip
    names = {"run": run_file, "missing": tmp_path / "none.csv", "log": log,
             "results": run_file.parent}  # fmt: skip
    argv = [a.format(**names) for a in args] + ["--calibrations", str(cals)]
    if args[0] == "report":
        argv += ["--out", str(tmp_path / "r")]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_unmeasured_energy_is_drawn_hollow_on_the_calibrated_axes(simulated):
    document, run_file, _ = simulated
    calibration = calibrate(document, read_log(simulated[2]), name="wall")
    frame = load(run_file, battery="phone")
    frame, _ = add_calibrated(frame, [(run_file, document)], {calibration.machine_id:
                              calibration}, battery("phone"))  # fmt: skip
    figure = scatter(frame, battery("phone"), x="whole_inferences_per_charge", y="accuracy")
    symbols = [t.marker.symbol for t in figure.data if t.mode and "markers" in t.mode]
    assert symbols and all(str(s).endswith("-open") for s in symbols)  # simulated: not measured
