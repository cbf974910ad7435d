"""The machine a run happened on: enough to refuse comparing runs from different hardware."""

from __future__ import annotations

import hashlib
import os
import platform
import re
import socket
import sys
from pathlib import Path
from typing import Any

import psutil

from joulebench.environment import library_versions


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux, else ``platform.processor()``)."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def governor(root: Path = Path("/sys")) -> str | None:
    """The cpufreq governor of CPU 0 (``performance``, ``powersave``, ...), or None."""
    return _read(root / "devices/system/cpu/cpu0/cpufreq/scaling_governor")


def governors(root: Path = Path("/sys")) -> dict[str, int]:
    """How many CPUs run each cpufreq governor (``{"performance": 8}``); empty if unknown."""
    counts: dict[str, int] = {}
    for path in sorted((root / "devices/system/cpu").glob("cpu[0-9]*/cpufreq/scaling_governor")):
        name = _read(path)
        if name:
            counts[name] = counts.get(name, 0) + 1
    return counts


def boost(root: Path = Path("/sys")) -> bool | None:
    """Whether turbo/boost clocks are allowed (intel_pstate's no_turbo, or cpufreq's boost)."""
    no_turbo = _read(root / "devices/system/cpu/intel_pstate/no_turbo")
    if no_turbo in ("0", "1"):
        return no_turbo == "0"
    flag = _read(root / "devices/system/cpu/cpufreq/boost")
    return None if flag not in ("0", "1") else flag == "1"


def smt(root: Path = Path("/sys")) -> bool | None:
    """Whether simultaneous multithreading (hyper-threading) is active; None if unknown."""
    active = _read(root / "devices/system/cpu/smt/active")
    return None if active not in ("0", "1") else active == "1"


def rapl_power_limits_w(root: Path = Path("/sys")) -> dict[str, float]:
    """RAPL power limits per zone and constraint (``package-0/long_term``: watts).

    The limits files are world-readable even where the energy counters are root-only.
    """
    limits: dict[str, float] = {}
    for zone in sorted((root / "class/powercap").glob("intel-rapl:*")):
        name = _read(zone / "name") or zone.name
        for limit_file in sorted(zone.glob("constraint_*_power_limit_uw")):
            index = limit_file.name.split("_")[1]
            value = _read(limit_file)
            kind = _read(zone / f"constraint_{index}_name") or f"constraint_{index}"
            if value and value.isdigit():
                limits[f"{name}/{kind}"] = int(value) / 1e6
    return limits


def fingerprint(gpu_names: list[str] | None = None, driver: str | None = None) -> dict[str, Any]:
    """CPU, cores, memory, GPU, driver, kernel, governors, boost, SMT, RAPL power limits,
    Python and library versions.

    GPU names come from the meter that saw them: nothing here probes hardware.
    """
    return {
        "hostname": socket.gethostname(),
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "physical_cpus": psutil.cpu_count(logical=False),
        "memory_bytes": psutil.virtual_memory().total,
        "gpus": list(gpu_names or []),
        "gpu_driver": driver,
        "os": platform.system(),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "governor": governor(),
        "governors": governors(),
        "boost": boost(),
        "smt": smt(),
        "rapl_power_limits_w": rapl_power_limits_w(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "libraries": library_versions(),
    }


def machine_id(info: dict[str, Any]) -> str:
    """A folder-safe id: ``<host>-<hash of CPU model, cores, memory and GPUs>``."""
    key = "|".join(
        str(info.get(k)) for k in ("cpu_model", "logical_cpus", "memory_bytes", "gpus", "arch")
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    host = re.sub(r"[^A-Za-z0-9._-]+", "-", str(info.get("hostname") or "host"))[:40].strip("-.")
    return f"{host or 'host'}-{digest}"
