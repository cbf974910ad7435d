"""Fakes at the hardware boundary, public so users can test their pipelines without hardware.

* :class:`FakeClock` — a clock that moves only when told (sleep advances it).
* :class:`BusyTrace` — a power trace that is ``busy_w`` while a fake workload runs and
  ``idle_w`` otherwise, integrating itself exactly; use with :class:`SimulatedMeter`.
* :class:`FakePowercap` — a ``/sys/class/powercap`` tree in a folder, its counters driven by a
  thread at known watts per zone, wrapping at ``max_energy_range_uj``, with mmio duplicates,
  subzones and zones that cannot be read.
* :class:`FakeNvml` — a stand-in for the ``pynvml`` module whose energy counter steps every
  100 ms, with GPUs that lack the counter, counter resets and missing GPUs.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from joulebench.clock import SYSTEM_CLOCK, Clock
from joulebench.devices.rapl import read_sysfs

__all__ = [
    "BusyTrace",
    "FakeClock",
    "FakeGpu",
    "FakeNvml",
    "FakePowercap",
    "FakeZone",
    "intel_layout",
]

HISTORY = 200_000
"""Writes remembered per zone (100 s at the default 0.5 ms update)."""


class FakeClock:
    """A clock that only moves when ``advance`` or ``sleep`` is called."""

    def __init__(self, start_s: float = 0.0, wall_origin_s: float = 1_700_000_000.0) -> None:
        self.now_s = start_s
        self.wall_origin_s = wall_origin_s
        self.sleeps_s: list[float] = []

    def monotonic(self) -> float:
        """The fake time."""
        return self.now_s

    def wall(self) -> float:
        """The fake time as Unix seconds."""
        return self.wall_origin_s + self.now_s

    def sleep(self, duration_s: float) -> None:
        """Advance by ``duration_s`` and remember the sleep."""
        self.sleeps_s.append(duration_s)
        self.advance(max(duration_s, 0.0))

    def advance(self, duration_s: float) -> None:
        """Move the clock forward."""
        if duration_s < 0:
            raise ValueError("a clock never goes back")
        self.now_s += duration_s


class BusyTrace:
    """Power that is ``busy_w`` while a workload made by :meth:`workload` runs, else ``idle_w``.

    Times are the clock's, counted from ``origin_s`` (the clock's time when the trace was made),
    the same origin a :class:`SimulatedMeter` made at that moment uses.
    """

    def __init__(self, clock: FakeClock, idle_w: float, busy_w: float) -> None:
        self.clock = clock
        self.idle_w = idle_w
        self.busy_w = busy_w
        self.origin_s = clock.monotonic()
        self.busy: list[tuple[float, float]] = []

    def workload(self, call_s: float | Callable[[], float]) -> Callable[[int], None]:
        """A workload whose every call keeps the machine busy for ``call_s`` fake seconds."""

        def run(n: int) -> None:
            start_s = self.clock.monotonic() - self.origin_s
            for _ in range(n):
                self.clock.advance(call_s() if callable(call_s) else call_s)
            self.busy.append((start_s, self.clock.monotonic() - self.origin_s))

        return run

    def __call__(self, t_s: float) -> float:
        """Power at ``t_s``."""
        inside = any(a <= t_s < b for a, b in self.busy)
        return self.busy_w if inside else self.idle_w

    def energy_j(self, t0_s: float, t1_s: float) -> float:
        """Exact energy over [t0, t1]."""
        busy_s = sum(max(0.0, min(b, t1_s) - max(a, t0_s)) for a, b in self.busy)
        return self.idle_w * (t1_s - t0_s) + (self.busy_w - self.idle_w) * busy_s


# --- powercap -------------------------------------------------------------------------------
@dataclass
class FakeZone:
    """One fake powercap zone."""

    zone_id: str
    name: str
    power_w: float
    max_range_uj: int = 262_143_328_850
    start_uj: int = 0
    readable: bool = True
    range_readable: bool = True
    mirror_of: str | None = None


def intel_layout(max_range_uj: int = 262_143_328_850) -> list[FakeZone]:
    """A one-socket Intel layout: package (core subzone, dram subzone), psys, an mmio duplicate."""
    return [
        FakeZone(
            "intel-rapl:0", "package-0", 20.0, max_range_uj, start_uj=max_range_uj - 1_000_000
        ),
        FakeZone("intel-rapl:0:0", "core", 12.0, max_range_uj),
        FakeZone("intel-rapl:0:2", "dram", 4.0, max_range_uj, start_uj=123_456),
        FakeZone("intel-rapl:1", "psys", 35.0, max_range_uj),
        FakeZone("intel-rapl-mmio:0", "package-0", 20.0, max_range_uj, mirror_of="intel-rapl:0"),
    ]


class FakePowercap:
    """A fake ``/sys/class/powercap`` tree under ``root``; ``start()`` drives its counters.

    Pass ``reader=tree.reader`` to :class:`RaplMeter` to get permission errors for zones made
    with ``readable=False`` (chmod does not stop root, so the fake raises them itself).
    """

    def __init__(
        self,
        root: Path,
        zones: Sequence[FakeZone] | None = None,
        update_s: float = 0.001,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.root = Path(root)
        self.zones = list(zones if zones is not None else intel_layout())
        self.update_s = update_s
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0_s = clock.monotonic()
        self.history: dict[str, deque[tuple[float, int]]] = {
            z.zone_id: deque([(0.0, z.start_uj)], maxlen=HISTORY) for z in self.zones
        }
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "intel-rapl").mkdir(exist_ok=True)  # the control type, as in real sysfs
        for zone in self.zones:
            folder = self.root / zone.zone_id
            folder.mkdir(exist_ok=True)
            (folder / "name").write_text(zone.name + "\n")
            (folder / "max_energy_range_uj").write_text(f"{zone.max_range_uj}\n")
            self.write(zone.zone_id, zone.start_uj)

    def zone(self, zone_id: str) -> FakeZone:
        """The zone called ``zone_id``."""
        return next(z for z in self.zones if z.zone_id == zone_id)

    def write(self, zone_id: str, raw: int | str) -> None:
        """Set a zone's ``energy_uj`` (atomically, as sysfs would show it)."""
        path = self.root / zone_id / "energy_uj"
        temp = path.with_suffix(".tmp")
        temp.write_text(f"{raw}\n")
        temp.replace(path)

    def value_at(self, zone: FakeZone, elapsed_s: float) -> int:
        """The raw counter of ``zone`` after ``elapsed_s`` seconds of its power."""
        source = self.zone(zone.mirror_of) if zone.mirror_of else zone
        return int(source.start_uj + source.power_w * elapsed_s * 1e6) % source.max_range_uj

    def tick(self) -> None:
        """Write every zone's counter for the current time (and remember what was written)."""
        elapsed_s = self.clock.monotonic() - self._t0_s
        for zone in self.zones:
            raw = self.value_at(zone, elapsed_s)
            self.write(zone.zone_id, raw)
            self.history[zone.zone_id].append((elapsed_s, raw))

    def elapsed_when(self, zone_id: str, raw: int) -> float:
        """When the driver wrote ``raw`` to ``zone_id`` (the latest such write), in seconds."""
        for elapsed_s, written in reversed(self.history[zone_id]):
            if written == raw:
                return elapsed_s
        raise KeyError(f"{zone_id} never held {raw}")

    def true_energy_j(self, zone_id: str, first_uj: int, last_uj: int) -> float:
        """The energy the driver put into ``zone_id`` between two values a meter read."""
        source = self.zone(zone_id)
        source = self.zone(source.mirror_of) if source.mirror_of else source
        elapsed_s = self.elapsed_when(zone_id, last_uj) - self.elapsed_when(zone_id, first_uj)
        return source.power_w * elapsed_s

    def _loop(self) -> None:
        while not self._stop.wait(self.update_s):
            self.tick()

    def start(self) -> FakePowercap:
        """Start the thread that advances every counter at its zone's power."""
        self._t0_s = self.clock.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="fake-powercap", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop driving the counters."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def __enter__(self) -> FakePowercap:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reader(self, path: Path) -> str:
        """Read a file of the tree, raising PermissionError where a zone is made unreadable."""
        zone_id = path.parent.name
        for zone in self.zones:
            if zone.zone_id != zone_id:
                continue
            if path.name == "energy_uj" and not zone.readable:
                raise PermissionError(13, "Permission denied", str(path))
            if path.name == "max_energy_range_uj" and not zone.range_readable:
                raise PermissionError(13, "Permission denied", str(path))
        return read_sysfs(path)


# --- NVML -----------------------------------------------------------------------------------
class NVMLError(Exception):
    """Base of the fake NVML errors (the meter catches ``module.NVMLError``)."""


class NVMLError_NotSupported(NVMLError):
    """The GPU does not support this call."""


class NVMLError_LibraryNotFound(NVMLError):
    """libnvidia-ml.so is not there."""


class NVMLError_GpuIsLost(NVMLError):
    """The GPU fell off the bus."""


@dataclass
class FakeGpu:
    """One fake GPU: constant ``power_w``, a counter that steps every ``step_s``."""

    name: str = "NVIDIA H100 80GB HBM3"
    power_w: float = 300.0
    has_counter: bool = True
    has_instant_field: bool = True
    step_s: float = 0.1
    sm_clock_mhz: int = 1980
    temperature_c: float = 45.0
    power_limit_w: float = 700.0
    clock_event_reasons: int = 0
    counter_offset_mj: int = 0
    lost: bool = False
    power_capped_share: float = 0.0
    """Share of the time the GPU is held back by its power cap (NVML's violation counter)."""
    thermal_share: float = 0.0
    """Share of the time the GPU is held back by temperature."""
    compute_pids: list[int] = field(default_factory=list)
    """Processes NVML lists as running compute work on this GPU (change it during a test)."""


@dataclass
class FakeNvml:
    """A stand-in for the ``pynvml`` module (only what :class:`NvmlMeter` calls)."""

    gpus: list[FakeGpu] = field(default_factory=lambda: [FakeGpu()])
    clock: Clock = SYSTEM_CLOCK
    library_found: bool = True
    t0_s: float = field(init=False)
    calls: list[str] = field(init=False, default_factory=list)

    NVMLError = NVMLError
    NVMLError_NotSupported = NVMLError_NotSupported
    NVMLError_LibraryNotFound = NVMLError_LibraryNotFound
    NVMLError_GpuIsLost = NVMLError_GpuIsLost
    NVML_FI_DEV_POWER_INSTANT = 186
    NVML_FI_DEV_POWER_AVERAGE = 185
    NVML_CLOCK_SM = 1
    NVML_TEMPERATURE_GPU = 0
    NVML_PERF_POLICY_POWER = 0
    NVML_PERF_POLICY_THERMAL = 1

    def __post_init__(self) -> None:
        self.t0_s = self.clock.monotonic()

    def _gpu(self, handle: Any) -> FakeGpu:
        gpu = self.gpus[handle.index]
        if gpu.lost:
            raise NVMLError_GpuIsLost("GPU is lost")
        return gpu

    def nvmlInit(self) -> None:
        self.calls.append("nvmlInit")
        if not self.library_found:
            raise NVMLError_LibraryNotFound("NVML Shared Library Not Found")

    def nvmlShutdown(self) -> None:
        self.calls.append("nvmlShutdown")

    def nvmlSystemGetDriverVersion(self) -> str:
        return "580.95.05"

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any:
        if not 0 <= index < len(self.gpus):
            raise NVMLError("Invalid Argument")
        return SimpleNamespace(index=index)

    def nvmlDeviceGetName(self, handle: Any) -> str:
        return self._gpu(handle).name

    def nvmlDeviceGetComputeRunningProcesses(self, handle: Any) -> list[Any]:
        return [
            SimpleNamespace(pid=pid, usedGpuMemory=None) for pid in self._gpu(handle).compute_pids
        ]

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: Any) -> list[Any]:
        self._gpu(handle)
        return []

    def energy_mj(self, gpu: FakeGpu) -> int:
        """The counter now: ``power_w`` integrated, in steps of ``step_s``."""
        elapsed_s = self.clock.monotonic() - self.t0_s
        stepped_s = math.floor(elapsed_s / gpu.step_s) * gpu.step_s
        return gpu.counter_offset_mj + int(gpu.power_w * stepped_s * 1000)

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: Any) -> int:
        gpu = self._gpu(handle)
        if not gpu.has_counter:
            raise NVMLError_NotSupported("Not Supported")
        return self.energy_mj(gpu)

    def nvmlDeviceGetPowerUsage(self, handle: Any) -> int:
        return int(self._gpu(handle).power_w * 1000)

    def nvmlDeviceGetFieldValues(self, handle: Any, field_ids: list[int]) -> list[Any]:
        gpu = self._gpu(handle)
        ok = gpu.has_instant_field and field_ids == [self.NVML_FI_DEV_POWER_INSTANT]
        value = SimpleNamespace(uiVal=int(gpu.power_w * 1000))
        return [SimpleNamespace(nvmlReturn=0 if ok else 3, value=value)]

    def nvmlDeviceGetClockInfo(self, handle: Any, kind: int) -> int:
        return self._gpu(handle).sm_clock_mhz

    def nvmlDeviceGetTemperature(self, handle: Any, sensor: int) -> float:
        return self._gpu(handle).temperature_c

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: Any) -> int:
        return int(self._gpu(handle).power_limit_w * 1000)

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: Any) -> int:
        return self._gpu(handle).clock_event_reasons

    def nvmlDeviceGetViolationStatus(self, handle: Any, policy: int) -> Any:
        """Cumulative nanoseconds held back by a policy (power 0, thermal 1), as NVML counts."""
        gpu = self._gpu(handle)
        share = {0: gpu.power_capped_share, 1: gpu.thermal_share}.get(policy, 0.0)
        elapsed_s = self.clock.monotonic() - self.t0_s
        return SimpleNamespace(
            referenceTime=int(elapsed_s * 1e6), violationTime=int(share * elapsed_s * 1e9)
        )
