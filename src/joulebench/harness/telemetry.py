"""What the host was doing around a window: CPU frequency, throttling, temperature, threads.

Read from sysfs under an injectable root, so tests use a fake tree. Missing values are None,
never 0.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
from threadpoolctl import threadpool_info

SYSFS_ROOT = Path("/sys")


@dataclass(frozen=True, slots=True)
class HostSnapshot:
    """CPU state at one instant. ``None`` where this machine does not expose the value."""

    cpu_freq_mhz: float | None
    throttle_count: int | None
    temperature_c: float | None
    process_threads: int | None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


def _read_number(path: Path) -> float | None:
    try:
        return float(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _cpu_dirs(root: Path) -> list[Path]:
    base = root / "devices/system/cpu"
    if not base.is_dir():
        return []
    return sorted(p for p in base.glob("cpu[0-9]*") if p.name[3:].isdigit())


def cpu_freq_mhz(root: Path = SYSFS_ROOT) -> float | None:
    """Mean current frequency of all CPUs (MHz), from cpufreq's ``scaling_cur_freq`` (kHz)."""
    values = [_read_number(d / "cpufreq/scaling_cur_freq") for d in _cpu_dirs(root)]
    known = [v for v in values if v is not None]
    return sum(known) / len(known) / 1000.0 if known else None


def throttle_count(root: Path = SYSFS_ROOT) -> int | None:
    """Total thermal throttle events (core + package) so far, or None where not exposed."""
    total, seen = 0, False
    for cpu in _cpu_dirs(root):
        for name in ("core_throttle_count", "package_throttle_count"):
            value = _read_number(cpu / "thermal_throttle" / name)
            if value is not None:
                total += int(value)
                seen = True
    return total if seen else None


def temperature_c(root: Path = SYSFS_ROOT) -> float | None:
    """CPU package temperature (x86_pkg_temp, else the hottest thermal zone), in °C."""
    base = root / "class/thermal"
    if not base.is_dir():
        return None
    package, others = None, []
    for zone in sorted(base.glob("thermal_zone*")):
        millidegrees = _read_number(zone / "temp")
        if millidegrees is None:
            continue
        try:
            kind = (zone / "type").read_text().strip()
        except OSError:
            kind = ""
        if kind == "x86_pkg_temp":
            package = millidegrees / 1000.0
        others.append(millidegrees / 1000.0)
    if package is not None:
        return package
    return max(others) if others else None


def snapshot(root: Path = SYSFS_ROOT) -> HostSnapshot:
    """Read the host's state now."""
    try:
        threads: int | None = psutil.Process().num_threads()
    except psutil.Error:
        threads = None
    return HostSnapshot(cpu_freq_mhz(root), throttle_count(root), temperature_c(root), threads)


def thread_settings() -> dict[str, Any]:
    """Thread counts that change a workload's speed and energy, as they are in this process."""
    torch = sys.modules.get("torch")
    settings: dict[str, Any] = {
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "mkl_num_threads": os.environ.get("MKL_NUM_THREADS"),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "torch_threads": None,
        "torch_interop_threads": None,
        "logical_cpus": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }
    if torch is not None and hasattr(torch, "get_num_threads"):
        settings["torch_threads"] = torch.get_num_threads()
        settings["torch_interop_threads"] = torch.get_num_interop_threads()
    settings["thread_pools"] = thread_pools()
    return settings


def thread_pools() -> dict[str, int]:
    """Threads of each BLAS and OpenMP pool loaded in this process, as they are now (not as
    the environment asked): ``{"openblas libscipy_openblas64_": 2, "openmp libgomp": 2}``."""
    pools: dict[str, int] = {}
    for pool in threadpool_info():
        name = f"{pool.get('internal_api')} {pool.get('prefix')}"
        pools[name] = int(pool.get("num_threads") or 0)
    return pools
