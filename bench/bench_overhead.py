"""Overhead of measuring: throughput of a CPU-bound workload bare vs inside measure().

For each meter available here (plus RAPL on a fake powercap tree and NVML's sampling path on a
fake GPU, which exercise the real polling threads), the workload's calls per second inside the
measured windows are divided by its calls per second bare, measured just before and after
(their mean), so drift cancels. A "null" meter that does nothing separates the protocol's own
cost (the random sleep before each window) from each meter's. Goal: a ratio of at least 0.99.
Prints a table; asserts nothing.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from common import parser, write_json
from joulebench import measure
from joulebench.devices import EstimateMeter, NvmlMeter, RaplMeter, SimulatedMeter
from joulebench.devices.base import Availability, EnergyReading
from joulebench.testing import FakeGpu, FakeNvml, FakePowercap, intel_layout


class NullMeter:
    """Reads nothing and reports 1 J per window: the protocol's cost alone."""

    name = "null"
    method = "simulated"
    scope = "simulated"
    primary_domain = "null"
    default_min_window_s = 0.5

    @classmethod
    def probe(cls) -> Availability:
        return Availability(True, "always")

    def begin(self) -> None:
        self.t0 = time.perf_counter()

    def end(self) -> list[EnergyReading]:
        return [EnergyReading("null", 1.0, time.perf_counter() - self.t0, "simulated")]

    def close(self) -> None:
        pass


def work(n: int) -> None:
    for _ in range(n):
        total = 0
        for i in range(2000):
            total += i * i


def bare_throughput(calls: int, repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        work(calls)
        rates.append(calls / (time.perf_counter() - t0))
    return statistics.median(rates)


def measured_throughput(meter, windows: int, min_window_s: float) -> tuple[float, int]:
    r = measure(
        work, meter, windows=windows, min_window_s=min_window_s, warmup_s=0.5, idle=False, seed=0
    )
    rates = [w.calls / w.duration_s for w in r.windows]
    return statistics.median(rates), r.calls_per_window


def meter_cpu_share(make, seconds: float) -> float:
    """CPU seconds the meter itself uses per second of an open window (the process idles)."""
    meter = make()
    try:
        meter.begin()
        cpu0 = time.process_time()
        time.sleep(seconds)
        cpu = time.process_time() - cpu0
        meter.end()
    finally:
        meter.close()
    return cpu / seconds


def main() -> None:
    args = parser(__doc__, "short windows (for CI)").parse_args()
    windows, min_window_s = (3, 0.25) if args.quick else (7, 2.0)

    with tempfile.TemporaryDirectory() as tmp:
        tree = FakePowercap(Path(tmp), intel_layout(), update_s=0.05).start()
        try:
            rows = run_all(tree, windows, min_window_s)
        finally:
            tree.stop()
    print("ratio = median window throughput inside measure() / mean of bare before and after")
    print("meter CPU = CPU time the meter's own threads use per second of an open window, less")
    print("the null row's (the fake tree's writer): a steadier bound on a meter's cost than the")
    print("ratio on a noisy machine")
    print("the fake RAPL tree's writer thread (every 50 ms) also runs during its row")
    write_json(args.json, "overhead", {"windows": windows, "min_window_s": min_window_s,
                                       "rows": rows})  # fmt: skip


def run_all(tree: FakePowercap, windows: int, min_window_s: float) -> list[dict[str, Any]]:
    meters = {
        "null (protocol only)": NullMeter,
        "estimate": lambda: EstimateMeter(),
        "simulated": lambda: SimulatedMeter(15.0),
        "rapl (fake tree, default polling)": lambda: RaplMeter(tree.root),
        "rapl (fake tree, polling 10 ms)": lambda: RaplMeter(tree.root, poll_s=0.01),
        "nvml (fake GPU, sampling 20 ms)": lambda: NvmlMeter(
            nvml=FakeNvml([FakeGpu(has_counter=False)]), sample_interval_s=0.02
        ),
    }
    print(f"{'meter':34} {'bare calls/s':>13} {'measured':>10} {'ratio':>7} {'meter CPU':>10}")
    baseline = None
    rows = []
    for name, make in meters.items():
        meter = make()
        try:
            calls = max(1, int(bare_throughput(20, 3) * min_window_s))
            before = bare_throughput(calls, 3)
            window_s = max(min_window_s, 1.0) if name.startswith("nvml") else min_window_s
            measured, _ = measured_throughput(meter, windows, window_s)
            after = bare_throughput(calls, 3)
        finally:
            meter.close()
        bare = (before + after) / 2
        share = meter_cpu_share(make, 3.0)
        baseline = share if baseline is None else baseline
        print(
            f"{name:34} {bare:13.1f} {measured:10.1f} {measured / bare:7.3f} "
            f"{share - baseline:10.3%}"
        )
        rows.append({"meter": name, "bare_calls_per_s": bare, "measured_calls_per_s": measured,
                     "ratio": measured / bare, "meter_cpu_share": share - baseline})  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
