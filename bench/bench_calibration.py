"""Coverage of the whole-device calibration's 95% intervals, by seeded simulation.

A known line ``wall = 1.25 x component + 30 W`` (a desktop's power supply and the rest of
the machine around a CPU's package+dram counter):

* **fit**: a simulated counter run (4 loads + idle, 5 rounds of 2 s windows) and the wall
  meter's 10 Hz log of it (noise 2% per sample, as ``joulebench calibrate`` reads it), or the
  window powers directly with the noise proportional to power or constant; how often the
  slope's and intercept's intervals cover 1.25 and 30 W, with the plain least-squares errors
  and with HC3 (what joulebench uses);
* **calibrated figures**: a later run (5 windows at 3% noise on energy and time per inference,
  or 30 windows at 0.5% with a noisier calibration) made whole-device with a fitted
  calibration; how often ``whole_device``'s interval covers ``1.25 x E + 30 x T``, and how
  often it would without the calibration's own uncertainty.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from common import parser, write_json
from joulebench.calibration import Calibration, calibrate, fit_line, whole_device
from joulebench.devices.meterlog import read_log
from joulebench.testing.calibration import counter_run, wall_log

SLOPE, INTERCEPT_W = 1.25, 30.0
LEVELS_W = np.array([4.0, 12.0, 25.0, 40.0, 55.0])
E_J, T_S = 0.05, 0.002  # a later run's component energy and time per inference


def ols_covers(x: np.ndarray, y: np.ndarray) -> tuple[bool, bool]:
    line = stats.linregress(x, y)
    t = stats.t.ppf(0.975, x.size - 2)
    return (
        abs(line.slope - SLOPE) <= t * line.stderr,
        abs(line.intercept - INTERCEPT_W) <= t * line.intercept_stderr,
    )


def fit_rows(rng: np.random.Generator, runs: int, log_runs: int) -> list[dict[str, Any]]:
    rows = []
    for noise in ("proportional 0.5%", "constant 0.35 W"):
        hits = {"ols": np.zeros(2), "hc3": np.zeros(2)}
        for _ in range(runs):
            x = np.repeat(LEVELS_W, 5) * (1 + 0.01 * rng.standard_normal(25))
            truth = SLOPE * x + INTERCEPT_W
            if noise.startswith("proportional"):
                y = truth * (1 + 0.005 * rng.standard_normal(25))
            else:
                y = truth + 0.35 * rng.standard_normal(25)
            hits["ols"] += ols_covers(x, y)
            fit = fit_line(x, y)
            t = stats.t.ppf(0.975, fit.windows - 2)
            hits["hc3"] += (
                abs(fit.slope - SLOPE) <= t * fit.slope_se,
                abs(fit.intercept_w - INTERCEPT_W) <= t * fit.intercept_se_w,
            )
        for errors, covered in hits.items():
            rows.append({"case": f"window powers, noise {noise}", "errors": errors,
                         "runs": runs, "slope_coverage": covered[0] / runs,
                         "intercept_coverage": covered[1] / runs})  # fmt: skip
    covered = np.zeros(2)
    slopes = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(log_runs):
            document = counter_run(np.random.default_rng(seed))
            path = wall_log(Path(folder) / "wall.csv", document, slope=SLOPE,
                            intercept_w=INTERCEPT_W, seed=seed)  # fmt: skip
            fitted = calibrate(document, read_log(path), name="bench")
            low, high = fitted.interval("slope")
            covered[0] += low <= SLOPE <= high
            low, high = fitted.interval("intercept")
            covered[1] += low <= INTERCEPT_W <= high
            slopes.append(fitted.slope)
    rows.append({"case": "simulated run + 10 Hz wall log (2% per sample), joulebench calibrate",
                 "errors": "hc3", "runs": log_runs, "slope_coverage": covered[0] / log_runs,
                 "intercept_coverage": covered[1] / log_runs,
                 "slope_mean": float(np.mean(slopes))})  # fmt: skip
    return rows


def calibrated_rows(
    rng: np.random.Generator, runs: int, windows_n: int, window_noise: float, wall_noise: float
) -> list[dict[str, Any]]:
    covered = {"with the fit's uncertainty": 0, "without it": 0}
    widths = []
    for _ in range(runs):
        x = np.repeat(LEVELS_W, 5) * (1 + 0.01 * rng.standard_normal(25))
        y = (SLOPE * x + INTERCEPT_W) * (1 + wall_noise * rng.standard_normal(25))
        fit = fit_line(x, y)
        calibration = Calibration(
            name="bench", machine_id="m", meter="rapl", scope="package+dram",
            whole_scope="wall", run_id="r", log="l", clock_offset_s=0.0, created_utc="",
            **asdict(fit),
        )  # fmt: skip
        items = 100
        windows = [
            {"items": items,
             "energy_j": E_J * items * (1 + window_noise * rng.standard_normal()),
             "duration_s": T_S * items * (1 + window_noise * rng.standard_normal())}
            for _ in range(windows_n)
        ]  # fmt: skip
        measurement = {"label": "later", "windows": windows,
                       "figures": {"energy_per_item_j": {"interval": "student-t"}}}  # fmt: skip
        result = whole_device(measurement, calibration)
        truth = SLOPE * E_J + INTERCEPT_W * T_S
        covered["with the fit's uncertainty"] += abs(result.energy_j - truth) <= result.ci95_j
        per_item = [fit.slope * w["energy_j"] / items + fit.intercept_w * w["duration_s"] / items
                    for w in windows]  # fmt: skip
        plain = stats.t.ppf(0.975, windows_n - 1) * np.std(per_item, ddof=1) / np.sqrt(windows_n)
        covered["without it"] += abs(result.energy_j - truth) <= plain
        widths.append(result.ci95_j / plain)
    return [
        {
            "case": f"later run of {windows_n} windows at {window_noise:.1%} noise, calibration "
            f"at {wall_noise:.1%} wall noise; interval {name}",
            "runs": runs,
            "coverage": hits / runs,
            **(
                {"median_width_vs_without": float(np.median(widths))}
                if name.startswith("with ")
                else {}
            ),
        }
        for name, hits in covered.items()
    ]


def main() -> None:
    args = parser(__doc__, "fewer simulated runs (for CI)").parse_args()
    runs, log_runs = (400, 40) if args.quick else (4000, 400)
    rng = np.random.default_rng(20261202)
    rows = fit_rows(rng, runs, log_runs)
    rows += calibrated_rows(rng, runs, windows_n=5, window_noise=0.03, wall_noise=0.005)
    rows += calibrated_rows(rng, runs, windows_n=30, window_noise=0.005, wall_noise=0.03)
    for row in rows:
        shown = {k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in row.items()}
        print(" | ".join(f"{k}: {v}" for k, v in shown.items()))
    write_json(args.json, "calibration",
               {"slope": SLOPE, "intercept_w": INTERCEPT_W, "rows": rows})  # fmt: skip


if __name__ == "__main__":
    main()
