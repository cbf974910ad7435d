"""Was anything else running while a window was open? (docs/protocol.md, "Contamination")

A meter measures the device, not the workload: a compiler, an indexer or another job that
runs during a window adds its energy to the window. Around each window the runner samples:

- **CPU**: the machine's busy CPU time (``psutil.cpu_times``: user + nice + system, summed
  over every CPU) and the CPU time of joulebench's own processes (this process, the workers
  and anything they started). Foreign CPU time is the difference of the two changes, so a
  process that started and ended inside the window is caught too, which a walk over the
  processes at the window's two ends would miss.
- **GPU** (a meter that lists the processes on its devices, e.g. NVML): the compute
  processes whose pid is not one of ours. Only judged when one of our own processes is
  visible to the meter: in a container NVML may list host pids, and then none matches.

A window whose foreign load is above ``max_foreign_cores`` (averaged over the window, and at
least :data:`RESOLUTION_CPU_S` of CPU time in all, the counters' 10 ms ticks being too
coarse to judge less), or that shares the GPU with a foreign process, is *contaminated*.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import psutil

RESOLUTION_CPU_S = 0.1
"""Foreign CPU time below this is never judged: ten 10 ms ticks of the kernel's counters."""
CONTAMINATED = "contaminated"
"""The window flag's prefix (``contaminated: 0.8 foreign CPU cores ...``)."""


@dataclass(frozen=True, slots=True)
class UsageSample:
    """What the machine and our processes had used up to one instant."""

    at_s: float
    """``time.monotonic()`` when taken (the probe's own clock, not the harness's)."""
    busy_cpu_s: float
    """CPU time the whole machine spent busy so far, summed over CPUs."""
    our_cpu_s: float
    """CPU time of this process and its descendants so far."""
    our_pids: frozenset[int]
    gpu_pids: frozenset[int] | None = None
    """Processes on the measured GPUs (None: the meter cannot list them)."""


class UsageProbe(Protocol):
    """Takes a :class:`UsageSample` (``harness.contamination.SystemUsage`` reads this machine)."""

    def sample(self) -> UsageSample:
        """What has been used up to now."""
        ...


def machine_busy_cpu_s() -> float:
    """The machine's busy CPU time so far (user + nice + system over every CPU), seconds."""
    times = psutil.cpu_times()
    return float(times.user + getattr(times, "nice", 0.0) + times.system)


def our_cpu_s() -> tuple[float, frozenset[int]]:
    """CPU time (user + system) of this process and every descendant, and their pids."""
    me = psutil.Process()
    total, pids = 0.0, {me.pid}
    for process in [me, *me.children(recursive=True)]:
        try:
            cpu = process.cpu_times()
        except psutil.Error:  # ended between the listing and the read: its time is gone
            continue
        total += cpu.user + cpu.system
        pids.add(process.pid)
    return total, frozenset(pids)


@dataclass
class SystemUsage:
    """This machine's usage, from psutil; ``gpu_pids`` lists the processes on the measured
    GPUs (the meter's ``compute_pids``), where the meter can."""

    gpu_pids: Callable[[], set[int]] | None = None

    def sample(self) -> UsageSample:
        """Read the counters now (ours before the machine's, so the lag is the same at both
        ends of a window and cancels)."""
        ours, pids = our_cpu_s()
        busy = machine_busy_cpu_s()
        gpu = None
        if self.gpu_pids is not None:
            try:
                gpu = frozenset(self.gpu_pids())
            except Exception:  # a listing that fails judges nothing
                gpu = None
        return UsageSample(time.monotonic(), busy, ours, pids, gpu)


def probe_for(meter: Any) -> SystemUsage:
    """The usage probe for a run with ``meter`` (GPU processes where it can list them)."""
    lister = getattr(meter, "compute_pids", None)
    return SystemUsage(gpu_pids=lister if callable(lister) else None)


@dataclass(frozen=True, slots=True)
class ForeignLoad:
    """What ran besides joulebench during one window."""

    cpu_s: float
    """Foreign CPU time during the window (seconds, summed over CPUs; >= 0)."""
    cores: float
    """``cpu_s`` over the window's length: how many CPUs others kept busy on average."""
    gpu_pids: tuple[int, ...] = ()
    """Foreign processes on the measured GPUs."""
    gpu_judged: bool = False
    """Whether the GPU side could be judged (one of our processes was visible to the meter)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON, as kept with the window."""
        data: dict[str, Any] = {"cpu_s": round(self.cpu_s, 4), "cores": round(self.cores, 4)}
        if self.gpu_judged:
            data["gpu_pids"] = list(self.gpu_pids)
        return data


def foreign_load(begin: UsageSample, end: UsageSample) -> ForeignLoad:
    """The foreign load between two samples."""
    elapsed_s = max(end.at_s - begin.at_s, 1e-9)
    cpu_s = max(0.0, (end.busy_cpu_s - begin.busy_cpu_s) - (end.our_cpu_s - begin.our_cpu_s))
    judged, foreign = False, ()
    if begin.gpu_pids is not None and end.gpu_pids is not None:
        listed = begin.gpu_pids | end.gpu_pids
        ours = begin.our_pids | end.our_pids
        judged = bool(listed & ours)
        foreign = tuple(sorted(listed - ours)) if judged else ()
    return ForeignLoad(cpu_s, cpu_s / elapsed_s, foreign, judged)


def verdict(load: ForeignLoad, max_foreign_cores: float) -> str | None:
    """Why the window is contaminated, as its flag (``contaminated: ...``), or None."""
    reasons = []
    if load.cpu_s >= RESOLUTION_CPU_S and load.cores > max_foreign_cores:
        reasons.append(
            f"other processes kept {load.cores:.2f} CPU cores busy (limit {max_foreign_cores:g})"
        )
    if load.gpu_pids:
        pids = ", ".join(str(p) for p in load.gpu_pids[:5])
        reasons.append(f"foreign process(es) {pids} on the measured GPU")
    return f"{CONTAMINATED}: {'; '.join(reasons)}" if reasons else None


def is_contamination(flag: str) -> bool:
    """Whether a window flag is a contamination flag (rather than drift)."""
    return flag.startswith(CONTAMINATED)
