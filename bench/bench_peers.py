"""Side by side with the tools people use today, on the same work in one run.

The work: a fixed number of CPU-bound calls (a 300 x 300 matrix product each). Each tool
measures it as it is meant to be used, and the table says what each reports: energy per call,
whether that figure is measured or estimated, whether it has an interval, and how much the
tool slowed the work (calls per second inside it vs bare). Where a peer cannot measure here it
says exactly why. Peers: CodeCarbon (``OfflineEmissionsTracker``) and Zeus (``ZeusMonitor``),
from PyPI (``pip install codecarbon zeus``); absent ones are reported as absent.

    python bench/bench_peers.py [--quick] [--json results.json]
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from common import parser, write_json
from joulebench import measure


def make_work() -> Callable[[int], None]:
    """``work(n)``: n matrix products (CPU-bound, about a millisecond each)."""
    matrix = np.random.default_rng(0).random((300, 300))

    def work(n: int) -> None:
        for _ in range(n):
            matrix @ matrix

    return work


def calls_per_s(work: Callable[[int], None], calls: int) -> float:
    start = time.perf_counter()
    work(calls)
    return calls / (time.perf_counter() - start)


def joulebench_row(work: Callable[[int], None], calls: int, quick: bool) -> dict[str, Any]:
    start = time.perf_counter()
    result = measure(work, "auto", label="matmul", windows=5, min_window_s=1.0 if quick else 2.0)
    elapsed_s = time.perf_counter() - start
    energy = result.energy_per_item_j
    inside = sum(w.calls for w in result.windows) / sum(w.duration_s for w in result.windows)
    return {
        "tool": "joulebench",
        "energy_per_item_j": energy.mean,
        "ci95_j": energy.ci95,
        "how": result.method_label,
        "scope": result.scope,
        "calls_per_s_inside": inside,
        "tool_wall_s": elapsed_s,
        "notes": f"meter {result.meter}: {result.meter_reason}; net of idle also given",
    }


CODECARBON_CPU_MODES = {
    "intel_rapl": "measured (RAPL counters)",
    "intel_power_gadget": "measured (Intel Power Gadget)",
    "apple_powermetrics": "measured (powermetrics)",
    "cpu_load": "ESTIMATED (TDP {tdp} W x CPU load)",
    "constant": "ESTIMATED (a constant {tdp} W, half of a TDP)",
}


def codecarbon_how(tracker: Any, data: Any) -> str:
    """How CodeCarbon made its figure in this run, read from its own hardware objects."""
    parts = []
    for hardware in getattr(tracker, "_hardware", []):
        kind = type(hardware).__name__
        if kind == "CPU":
            mode = getattr(hardware, "_mode", None)
            words = CODECARBON_CPU_MODES.get(mode, f"unknown mode {mode!r}")
            parts.append(f"CPU {words.format(tdp=getattr(hardware, '_tdp', '?'))}")
        elif kind == "RAM":
            parts.append("RAM ESTIMATED (watts per GB of memory)")
        elif kind == "GPU":
            parts.append("GPU measured (NVML)")
        else:
            parts.append(f"{kind} (mode {getattr(hardware, '_mode', '?')})")
    measured_any = any("measured" in p for p in parts)
    estimated_any = any("ESTIMATED" in p for p in parts)
    lead = "ESTIMATED in part" if measured_any and estimated_any else (
        "measured" if measured_any else "ESTIMATED")  # fmt: skip
    return f"{lead}: " + "; ".join(parts) + f" (CPU {data.cpu_power:.1f} W)"


def codecarbon_row(work: Callable[[int], None], calls: int) -> dict[str, Any]:
    try:
        from codecarbon import OfflineEmissionsTracker
    except ImportError:
        return {"tool": "codecarbon", "notes": "not installed: pip install codecarbon"}
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    tracker = OfflineEmissionsTracker(
        country_iso_code="DEU", log_level="error", save_to_file=False, measure_power_secs=1
    )
    tracker.start()
    start = time.perf_counter()
    work(calls)
    elapsed_s = time.perf_counter() - start
    tracker.stop()
    data = tracker.final_emissions_data
    energy_j = data.energy_consumed * 3.6e6
    return {
        "tool": "codecarbon",
        "energy_per_item_j": energy_j / calls,
        "ci95_j": None,
        "how": codecarbon_how(tracker, data),
        "codecarbon_modes": {
            type(h).__name__: getattr(h, "_mode", None) for h in getattr(tracker, "_hardware", [])
        },
        "scope": f"cpu {data.cpu_energy * 3.6e6:.0f} J + ram {data.ram_energy * 3.6e6:.0f} J",
        "calls_per_s_inside": calls / elapsed_s,
        "tool_wall_s": elapsed_s,
        "notes": "one total per run: no windows, no interval, no idle subtraction; "
        "a missing counter silently becomes an estimate",
    }


def zeus_row(work: Callable[[int], None], calls: int) -> dict[str, Any]:
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            from zeus.monitor import ZeusMonitor

            monitor = ZeusMonitor()
    except ImportError:
        return {"tool": "zeus", "notes": "not installed: pip install zeus"}
    except Exception as exc:  # Zeus raises its own types when it finds no device
        return {"tool": "zeus", "notes": f"cannot start here: {type(exc).__name__}: {exc}"}
    monitor.begin_window("work")
    start = time.perf_counter()
    work(calls)
    elapsed_s = time.perf_counter() - start
    measurement = monitor.end_window("work")
    energies = {
        "gpu": measurement.gpu_energy or None,
        "cpu": measurement.cpu_energy or None,
        "dram": measurement.dram_energy or None,
    }
    found = {k: v for k, v in energies.items() if v}
    if not found:
        return {
            "tool": "zeus",
            "energy_per_item_j": None,
            "how": "nothing measured",
            "calls_per_s_inside": calls / elapsed_s,
            "tool_wall_s": elapsed_s,
            "notes": "ZeusMonitor started and returned a Measurement with no energy at all "
            "(gpu {}, cpu None, dram None): no NVIDIA/AMD GPU and no RAPL here, and it raised "
            "no error",
        }
    total_j = sum(sum(v.values()) for v in found.values())
    return {
        "tool": "zeus",
        "energy_per_item_j": total_j / calls,
        "ci95_j": None,
        "how": "measured (RAPL/NVML counters)",
        "scope": ", ".join(found),
        "calls_per_s_inside": calls / elapsed_s,
        "tool_wall_s": elapsed_s,
        "notes": "one window: no interval",
    }


def main() -> None:
    args = parser(__doc__, "shorter (for CI)").parse_args()
    work = make_work()
    work(50)  # warm caches and BLAS threads
    bare = calls_per_s(work, 200)
    calls = max(200, int(bare * (3 if args.quick else 10)))
    bare = calls_per_s(work, calls)
    rows = []
    for tool in (lambda: joulebench_row(work, calls, args.quick),
                 lambda: codecarbon_row(work, calls), lambda: zeus_row(work, calls)):  # fmt: skip
        before = calls_per_s(work, calls)  # bare speed right before each tool: drift cancels
        row = tool()
        row["bare_calls_per_s_before"] = before
        rows.append(row)
    print(f"the same work: {calls} matrix products (300 x 300), bare {bare:,.0f} calls/s")
    print(f"{'tool':<11} {'energy/call':>14} {'± 95%':>9} {'speed vs bare':>13}  how it was made")
    for row in rows:
        energy = row.get("energy_per_item_j")
        ci = row.get("ci95_j")
        inside = row.get("calls_per_s_inside")
        ratio = f"{inside / row['bare_calls_per_s_before']:.3f}" if inside else "—"
        print(
            f"{row['tool']:<11} "
            f"{(f'{energy * 1000:.3f} mJ' if energy else '—'):>14} "
            f"{(f'{ci * 1000:.3f}' if ci else 'none'):>9} "
            f"{ratio:>13}  "
            f"{row.get('how', '—')}"
        )
        print(f"{'':<11} {row.get('notes', '')}")
    write_json(args.json, "peers", {"bare_calls_per_s": bare, "calls": calls, "rows": rows})


if __name__ == "__main__":
    main()
