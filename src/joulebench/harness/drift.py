"""Flags for windows whose conditions drifted: clocks, temperature, throttling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import median
from typing import Any

# NVML clock-event reasons that mean the GPU slowed itself (power or thermal), from nvml.h:
# SwPowerCap 0x4, HwSlowdown 0x8, SwThermalSlowdown 0x20, HwThermalSlowdown 0x40,
# HwPowerBrakeSlowdown 0x80.
GPU_SLOWDOWN_BITS = {
    0x4: "sw-power-cap",
    0x8: "hw-slowdown",
    0x20: "sw-thermal",
    0x40: "hw-thermal",
    0x80: "hw-power-brake",
}


def gpu_slowdowns(reasons: int | None) -> list[str]:
    """Names of the power/thermal slowdown bits set in an NVML clock-event reason mask."""
    if not reasons:
        return []
    return [name for bit, name in GPU_SLOWDOWN_BITS.items() if reasons & bit]


def window_drift(
    host_begin: Mapping[str, Any],
    host_end: Mapping[str, Any],
    reading_details: Sequence[Mapping[str, Any]],
    *,
    run_freq_mhz: float | None,
    first_temp_c: float | None,
    freq_frac: float,
    temp_c: float,
) -> list[str]:
    """Why this window drifted (empty when it did not)."""
    reasons: list[str] = []
    freqs = [f for f in (host_begin.get("cpu_freq_mhz"), host_end.get("cpu_freq_mhz")) if f]
    if run_freq_mhz and freqs:
        worst = max(abs(f - run_freq_mhz) / run_freq_mhz for f in freqs)
        if worst > freq_frac:
            reasons.append(f"cpu-freq {worst:.0%} off the run's median")
    t0, t1 = host_begin.get("throttle_count"), host_end.get("throttle_count")
    if t0 is not None and t1 is not None and t1 > t0:
        reasons.append(f"cpu-throttled {t1 - t0}x")
    t_end = host_end.get("temperature_c")
    if first_temp_c is not None and t_end is not None and t_end - first_temp_c > temp_c:
        reasons.append(f"cpu-temp +{t_end - first_temp_c:.0f} C")
    for details in reading_details:
        slow = gpu_slowdowns(details.get("clock_event_reasons_end"))
        if slow:
            reasons.append("gpu-" + "+".join(slow))
        for kind in ("power", "thermal"):
            v0, v1 = details.get(f"{kind}_capped_ns_begin"), details.get(f"{kind}_capped_ns_end")
            if v0 is not None and v1 is not None and v1 > v0:
                reasons.append(f"gpu-throttled-{kind} {(v1 - v0) / 1e6:.0f} ms")
        c0, c1 = details.get("sm_clock_mhz_begin"), details.get("sm_clock_mhz_end")
        if c0 and c1 and abs(c1 - c0) / c0 > freq_frac:
            reasons.append(f"gpu-clock {c0}->{c1} MHz")
        g0, g1 = details.get("temperature_c_begin"), details.get("temperature_c_end")
        if g0 is not None and g1 is not None and g1 - g0 > temp_c:
            reasons.append(f"gpu-temp +{g1 - g0:.0f} C")
    return reasons


def run_median_freq(snapshots: Sequence[Mapping[str, Any]]) -> float | None:
    """Median CPU frequency over all snapshots of a run (None where unknown)."""
    freqs = [s["cpu_freq_mhz"] for s in snapshots if s.get("cpu_freq_mhz")]
    return median(freqs) if freqs else None
