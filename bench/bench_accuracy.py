"""Accuracy of the measurement: energy error against known truths, and interval coverage.

1. A simulated meter replaying a known busy/idle trace (fake clock, noisy readings): mean error
   of gross and net energy per call, and how often the 95% interval covers the truth.
2. RaplMeter on a fake powercap tree driven at 1, 20 and 150 W, with counters that wrap
   several times per window: error of package and dram energy.
3. A simulated USB meter log of a known power trace (noise, a clock offset), at 1, 2 and 10 Hz
   and in each export style, integrated over 60 s windows by ``energy_from_log``.
Prints a table (``--json FILE`` writes it too); asserts nothing. Goal: errors <= 0.5%.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from common import parser, write_json
from joulebench import measure
from joulebench.devices import RaplMeter, SimulatedMeter
from joulebench.errors import InvalidWindowError
from joulebench.harness.telemetry import HostSnapshot
from joulebench.testing import BusyTrace, FakeClock, FakePowercap, intel_layout

IDLE_W, BUSY_W, CALL_S = 5.0, 25.0, 0.01


def simulated(runs: int, noise_frac: float) -> dict[str, Any]:
    gross_err, net_err, covered = [], [], 0
    for seed in range(runs):
        clock = FakeClock()
        trace = BusyTrace(clock, IDLE_W, BUSY_W)
        meter = SimulatedMeter(trace, noise_frac=noise_frac, seed=seed, clock=clock)
        r = measure(
            trace.workload(CALL_S),
            meter,
            clock=clock,
            seed=seed,
            host_probe=lambda: HostSnapshot(None, None, None, None),
        )
        truth = BUSY_W * CALL_S
        gross_err.append(abs(r.energy_per_item_j.mean / truth - 1))
        net_err.append(abs(r.net_energy_per_item_j.mean / ((BUSY_W - IDLE_W) * CALL_S) - 1))
        covered += abs(r.energy_per_item_j.mean - truth) <= r.energy_per_item_j.ci95
    print(f"simulated trace, {runs} seeded runs, {noise_frac:.0%} reading noise, 5 windows:")
    print(
        f"  gross energy/call: median error {statistics.median(gross_err):.3%}, "
        f"max {max(gross_err):.3%}"
    )
    print(
        f"  net energy/call:   median error {statistics.median(net_err):.3%}, "
        f"max {max(net_err):.3%}"
    )
    if noise_frac:
        print(f"  95% interval covered the truth in {covered / runs:.1%} of runs (goal >= 90%)")
    else:
        print("  (no reading noise: any error here would be the harness's own arithmetic)")
    return {
        "runs": runs,
        "noise_frac": noise_frac,
        "gross_median_error": statistics.median(gross_err),
        "gross_max_error": max(gross_err),
        "net_median_error": statistics.median(net_err),
        "net_max_error": max(net_err),
        "coverage": covered / runs if noise_frac else None,
    }


def fake_rapl_at(package_w: float, windows: int, window_s: float) -> dict[str, Any]:
    """RaplMeter on a fake tree whose package draws ``package_w``, wrapping 4x per window."""
    range_uj = max(200_000, int(package_w * window_s * 1e6 / 4))
    dram_w = 4.0
    zones = intel_layout()
    for zone in zones:
        if zone.name == "package-0":  # the package and its mmio duplicate
            zone.power_w, zone.max_range_uj = package_w, range_uj
            zone.start_uj = range_uj - range_uj // 3
    package_err, dram_err, wraps, discarded = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        tree = FakePowercap(Path(tmp), zones, update_s=0.0005).start()
        meter = RaplMeter(tree.root, max_power_w=max(package_w, 35.0) * 1.5)
        try:
            while len(package_err) < windows and len(discarded) < 3 * windows:
                meter.begin()
                time.sleep(window_s)
                try:
                    readings = {r.domain: r for r in meter.end()}
                except InvalidWindowError as exc:  # a poll came too late: discarded, as in runs
                    discarded.append(str(exc))
                    continue
                d = readings["cpu"].duration_s
                package_err.append(abs(readings["cpu:package-0"].energy_j / (package_w * d) - 1))
                dram_err.append(abs(readings["cpu:dram"].energy_j / (dram_w * d) - 1))
                wraps.append(readings["cpu:package-0"].details["wraps"])
        finally:
            meter.close()
            tree.stop()
    row: dict[str, Any] = {"package_w": package_w, "windows": len(package_err),
                           "discarded": len(discarded)}  # fmt: skip
    if package_err:
        row.update(
            wraps_per_window=statistics.median(wraps),
            package_median_error=statistics.median(package_err),
            package_max_error=max(package_err),
            dram_median_error=statistics.median(dram_err),
            dram_max_error=max(dram_err),
        )
    return row


def fake_rapl(windows: int, window_s: float) -> list[dict[str, Any]]:
    """The fake tree at 1, 20 and 150 W (package); dram at 4 W throughout."""
    print(f"fake powercap tree, {windows} windows of {window_s} s per power, counters wrapping "
          "about 4 times per window:")  # fmt: skip
    print(f"  {'package W':>9}  {'wraps':>5}  {'discarded':>9}  {'package err':>17}  "
          f"{'dram err':>17}")  # fmt: skip
    rows = []
    for package_w in (1.0, 20.0, 150.0):
        row = fake_rapl_at(package_w, windows, window_s)
        rows.append(row)
        if not row["windows"]:
            print(f"  {package_w:>9.0f}  every window discarded")
            continue
        print(f"  {package_w:>9.0f}  {row['wraps_per_window']:>5.0f}  {row['discarded']:>9}  "
              f"{row['package_median_error']:>7.3%} max {row['package_max_error']:.3%}  "
              f"{row['dram_median_error']:>7.3%} max {row['dram_max_error']:.3%}")  # fmt: skip
    print("  (err = median, max of |reading / truth - 1|; a window whose counter could have")
    print("  wrapped unseen is discarded, never guessed)")
    return rows


def meter_log(windows: int) -> list[dict[str, Any]]:
    import numpy as np

    from joulebench.devices.clock_offset import estimate_clock_offset
    from joulebench.devices.manual import energy_from_log
    from joulebench.devices.meterlog import read_log
    from joulebench.testing import write_meter_log

    start_s, window_s, gap_s, offset_s = 1_795_000_000.0, 60.0, 7.3, 2.4
    spans = [(start_s + 10 + i * (window_s + gap_s), start_s + 10 + i * (window_s + gap_s)
              + window_s) for i in range(windows)]  # fmt: skip

    def power_w(t: float) -> float:
        busy = any(a <= t < b for a, b in spans)
        return 4.2 + 0.5 * np.sin(t / 5.0) if busy else 1.3

    def truth_j(a: float, b: float) -> float:
        grid = np.linspace(a, b, 600_001)
        return float(np.trapezoid([power_w(t) for t in grid[::100]], grid[::100]))

    print(f"simulated USB meter log, {windows} windows of {window_s:.0f} s, 3% noise per sample, "
          f"meter clock {offset_s} s ahead; the offset given, then found from the log "
          "(--clock-offset-s auto):")  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rate_hz in (1.0, 2.0, 10.0):
            for style in ("fnb58", "um25c", "elapsed"):
                path = write_meter_log(
                    Path(tmp) / f"{style}-{rate_hz}.csv", lambda t: power_w(t - offset_s),
                    start_unix_s=start_s + offset_s, duration_s=spans[-1][1] - start_s + 20,
                    rate_hz=rate_hz, noise_frac=0.03, seed=1, style=style,  # type: ignore[arg-type]
                    tz="UTC",
                )  # fmt: skip
                offset = start_s if style == "elapsed" else -offset_s
                log = read_log(path, tz="UTC")
                # every window the run took: the busy ones and the gaps between them (idle)
                every = sorted(spans + [(b, b + gap_s - 0.5) for _, b in spans[:-1]])
                found = estimate_clock_offset(log, every).offset_s
                row: dict[str, Any] = {"rate_hz": rate_hz, "style": style,
                                       "offset_error_s": found - offset}  # fmt: skip
                for name, value in (("given", offset), ("found", found)):
                    readings = energy_from_log(log, spans, clock_offset_s=value)
                    errors = [abs(r.energy_j / truth_j(a, b) - 1)
                              for r, (a, b) in zip(readings, spans, strict=True)]  # fmt: skip
                    row[f"median_error_{name}"] = statistics.median(errors)
                    row[f"max_error_{name}"] = max(errors)
                given = f"median {row['median_error_given']:.3%}, max {row['max_error_given']:.3%}"
                found = f"median {row['median_error_found']:.3%}, max {row['max_error_found']:.3%}"
                print(f"  {rate_hz:>4.0f} Hz {style:<8} offset given: {given}; "
                      f"found ({row['offset_error_s']:+.2f} s off): {found}")  # fmt: skip
                rows.append(row)
    return rows


def main() -> None:
    args = parser(__doc__, "fewer runs (for CI)").parse_args()
    results = {
        "simulated_noiseless": simulated(20 if args.quick else 100, 0.0),
        "simulated": simulated(100 if args.quick else 1000, 0.05),
        "fake_rapl": fake_rapl(3 if args.quick else 10, 0.5 if args.quick else 2.0),
        "meter_log": meter_log(3 if args.quick else 10),
    }
    write_json(args.json, "accuracy", results)


if __name__ == "__main__":
    main()
