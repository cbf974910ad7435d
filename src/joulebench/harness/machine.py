"""The machine a run happened on: enough to refuse comparing runs from different hardware."""

from __future__ import annotations

import hashlib
import os
import platform
import re
import socket
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

LIBRARIES = (
    "joulebench",
    "numpy",
    "scipy",
    "pandas",
    "torch",
    "onnxruntime",
    "transformers",
    "nvidia-ml-py",
)


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux, else ``platform.processor()``)."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def governor(root: Path = Path("/sys")) -> str | None:
    """The cpufreq governor of CPU 0 (``performance``, ``powersave``, ...), or None."""
    try:
        return (root / "devices/system/cpu/cpu0/cpufreq/scaling_governor").read_text().strip()
    except OSError:
        return None


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    """Installed versions (None where not installed), read without importing the libraries."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def fingerprint(gpu_names: list[str] | None = None, driver: str | None = None) -> dict[str, Any]:
    """CPU, cores, memory, GPU, driver, kernel, governor, Python and library versions.

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
