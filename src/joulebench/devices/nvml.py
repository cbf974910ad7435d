"""NVIDIA GPU energy through NVML (nvidia-ml-py, imported only when the meter is built).

Where the GPU has the total-energy counter (Volta and newer) the meter reads it at both ends
of a window (method ``counter``); elsewhere it samples power in a thread and integrates the
samples (method ``integrated``), recording which power field it used. CUDA is synchronised
before each read when torch has initialised CUDA. The counter steps about every 100 ms and on
A100/H100 the sensor samples only 25 ms of every 100 ms, so windows under 1 s are refused and
windows under 5 s flagged; a window whose counter did not move, or went backwards (a driver
reset), is invalid rather than 0 J.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, ClassVar

from joulebench.clock import SYSTEM_CLOCK, Clock
from joulebench.devices.base import Availability, EnergyReading, MeterAccuracy, Method
from joulebench.errors import DeviceError, InvalidWindowError, MeterUnavailableError

MIN_WINDOW_S = 1.0
"""Shorter windows are refused: the counter steps every ~100 ms."""
SHORT_WINDOW_S = 5.0
"""Shorter windows are flagged: the sensor may see only a quarter of each 100 ms period."""

ACCURACY = MeterAccuracy(
    0.05,
    "NVIDIA's NVML reference: power readings accurate to within ±5% of the current draw "
    "(stated for nvmlDeviceGetPowerUsage; no figure is given for the energy counter)",
)
_INSTALL_FIX = "install it with `pip install 'joulebench[nvidia]'` (nvidia-ml-py)"


def import_nvml() -> ModuleType:
    """Import pynvml (from nvidia-ml-py) or raise MeterUnavailableError with the fix."""
    try:
        import pynvml
    except ImportError:
        raise MeterUnavailableError(
            f"NVML meter: the pynvml module is missing; {_INSTALL_FIX}"
        ) from None
    return pynvml


def _nvml_error(nvml: Any) -> type[BaseException]:
    error = getattr(nvml, "NVMLError", None)
    return error if isinstance(error, type) and issubclass(error, BaseException) else Exception


def _init_failure(nvml: Any, exc: BaseException) -> Availability:
    text = str(exc) or type(exc).__name__
    not_found = getattr(nvml, "NVMLError_LibraryNotFound", None)
    if isinstance(not_found, type) and isinstance(exc, not_found):
        return Availability(
            False,
            "no NVIDIA driver: libnvidia-ml.so was not found",
            "install the NVIDIA driver on a machine with an NVIDIA GPU, "
            "or use --meter rapl/estimate",
        )
    return Availability(
        False, f"nvmlInit failed: {text}", "check `nvidia-smi` works, or use --meter rapl/estimate"
    )


def cuda_synchronize_if_used() -> None:
    """Wait for queued CUDA work when torch has initialised CUDA; do nothing otherwise.

    Never imports torch: a process that has not imported it has no CUDA work to wait for.
    """
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    if cuda is not None and cuda.is_available() and cuda.is_initialized():
        cuda.synchronize()


@dataclass(slots=True)
class _Samples:
    times_s: list[float] = field(default_factory=list)
    power_w: list[list[float]] = field(default_factory=list)


@dataclass
class NvmlMeter:
    """Energy of NVIDIA GPUs (``gpu`` = sum of the chosen devices, board scope)."""

    devices: Sequence[int] | None = None
    nvml: Any = None
    clock: Clock = SYSTEM_CLOCK
    sample_interval_s: float = 0.02
    sync: Callable[[], None] = cuda_synchronize_if_used

    name: ClassVar[str] = "nvml"
    primary_domain: ClassVar[str] = "gpu"
    scope: ClassVar[str] = "board"
    default_min_window_s: ClassVar[float] = 10.0
    min_allowed_window_s: ClassVar[float] = MIN_WINDOW_S
    update_period_s: ClassVar[float] = 0.1
    accuracy: ClassVar[MeterAccuracy] = ACCURACY

    method: Method = field(init=False, default="counter")
    power_field: str | None = field(init=False, default=None)
    device_names: list[str] = field(init=False, default_factory=list)
    driver_version: str | None = field(init=False, default=None)
    _handles: list[Any] = field(init=False, default_factory=list)
    _start_mj: list[int] = field(init=False, default_factory=list)
    _start_info: list[dict[str, Any]] = field(init=False, default_factory=list)
    _t_begin_s: float | None = field(init=False, default=None)
    _samples: _Samples = field(init=False, default_factory=_Samples)
    _sample_error: str | None = field(init=False, default=None)
    _stop: threading.Event = field(init=False, default_factory=threading.Event)
    _thread: threading.Thread | None = field(init=False, default=None)
    _initialised: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        if self.nvml is None:
            self.nvml = import_nvml()
        error = _nvml_error(self.nvml)
        try:
            self.nvml.nvmlInit()
        except error as exc:
            raise MeterUnavailableError(
                f"NVML meter: {_init_failure(self.nvml, exc).message()}"
            ) from None
        self._initialised = True
        count = self._call(self.nvml.nvmlDeviceGetCount)
        indices = list(range(count)) if self.devices is None else list(self.devices)
        if not indices:
            self.close()
            raise MeterUnavailableError("NVML meter: NVML sees no GPU; use --meter rapl/estimate")
        bad = [i for i in indices if not 0 <= i < count]
        if bad:
            self.close()
            raise MeterUnavailableError(
                f"NVML meter: GPU index {bad[0]} does not exist (NVML sees {count}); "
                f"choose from 0..{count - 1}"
            )
        self.devices = indices
        self._handles = [self._call(self.nvml.nvmlDeviceGetHandleByIndex, i) for i in indices]
        self.device_names = [str(self._call(self.nvml.nvmlDeviceGetName, h)) for h in self._handles]
        driver = self._optional("nvmlSystemGetDriverVersion")
        self.driver_version = None if driver is None else str(driver)
        self.method = (
            "counter" if all(self._has_counter(h) for h in self._handles) else "integrated"
        )
        if self.method == "integrated":
            self.power_field = self._choose_power_field(self._handles[0])

    # -- vendor calls, translated ----------------------------------------------------------
    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except _nvml_error(self.nvml) as exc:
            name = getattr(fn, "__name__", "NVML call")
            raise DeviceError(f"NVML meter: {name} failed: {exc or type(exc).__name__}") from None

    def _optional(self, fn_name: str, *args: Any) -> Any:
        """A telemetry value, or None where this GPU or driver does not give it."""
        fn = getattr(self.nvml, fn_name, None)
        if fn is None:
            return None
        try:
            return fn(*args)
        except _nvml_error(self.nvml):
            return None

    def compute_pids(self) -> set[int]:
        """The processes running on the measured GPUs (compute and graphics), for the check
        that nothing else shares them during a window (``harness.contamination``)."""
        pids: set[int] = set()
        for handle in self._handles:
            for name in (
                "nvmlDeviceGetComputeRunningProcesses",
                "nvmlDeviceGetGraphicsRunningProcesses",
            ):
                pids.update(int(p.pid) for p in self._optional(name, handle) or [])
        return pids

    def _has_counter(self, handle: Any) -> bool:
        try:
            self.nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
        except _nvml_error(self.nvml):
            return False
        return True

    def _choose_power_field(self, handle: Any) -> str:
        if self._instant_power_mw(handle) is not None:
            return "instant"
        self._call(self.nvml.nvmlDeviceGetPowerUsage, handle)
        return "average-1s"

    def _instant_power_mw(self, handle: Any) -> float | None:
        field_id = getattr(self.nvml, "NVML_FI_DEV_POWER_INSTANT", None)
        values = (
            self._optional("nvmlDeviceGetFieldValues", handle, [field_id]) if field_id else None
        )
        if not values or getattr(values[0], "nvmlReturn", 1) != 0:
            return None
        return float(values[0].value.uiVal)

    def _power_w(self, handle: Any) -> float:
        if self.power_field == "instant":
            power_mw = self._instant_power_mw(handle)
            if power_mw is None:
                raise DeviceError("NVML meter: the instant power field stopped answering")
        else:
            power_mw = float(self._call(self.nvml.nvmlDeviceGetPowerUsage, handle))
        return power_mw / 1000.0

    def _telemetry(self, handle: Any) -> dict[str, Any]:
        sm_clock = self._optional(
            "nvmlDeviceGetClockInfo", handle, getattr(self.nvml, "NVML_CLOCK_SM", 1)
        )
        temp = self._optional(
            "nvmlDeviceGetTemperature", handle, getattr(self.nvml, "NVML_TEMPERATURE_GPU", 0)
        )
        limit_mw = self._optional("nvmlDeviceGetEnforcedPowerLimit", handle)
        reasons = self._optional("nvmlDeviceGetCurrentClocksEventReasons", handle)
        if reasons is None:
            reasons = self._optional("nvmlDeviceGetCurrentClocksThrottleReasons", handle)
        return {
            "sm_clock_mhz": None if sm_clock is None else int(sm_clock),
            "temperature_c": None if temp is None else float(temp),
            "power_limit_w": None if limit_mw is None else float(limit_mw) / 1000.0,
            "clock_event_reasons": None if reasons is None else int(reasons),
            "power_capped_ns": self._violation_ns(handle, "NVML_PERF_POLICY_POWER", 0),
            "thermal_capped_ns": self._violation_ns(handle, "NVML_PERF_POLICY_THERMAL", 1),
        }

    def _violation_ns(self, handle: Any, policy_name: str, default: int) -> int | None:
        """NVML's cumulative time (ns) the GPU was held back by a policy; None if not given.

        Read at both ends of a window, the difference says whether it throttled at any time
        during the window, not only at its end (the clock-event reasons are a snapshot).
        """
        policy = getattr(self.nvml, policy_name, default)
        status = self._optional("nvmlDeviceGetViolationStatus", handle, policy)
        value = getattr(status, "violationTime", None)
        return None if value is None else int(value)

    # -- probe -----------------------------------------------------------------------------
    @classmethod
    def probe(cls, nvml: Any = None) -> Availability:
        """Available where pynvml imports, NVML initialises and sees at least one GPU."""
        if nvml is None:
            try:
                nvml = import_nvml()
            except MeterUnavailableError:
                return Availability(False, "the pynvml module is missing", _INSTALL_FIX)
        error = _nvml_error(nvml)
        try:
            nvml.nvmlInit()
        except error as exc:
            return _init_failure(nvml, exc)
        try:
            count = int(nvml.nvmlDeviceGetCount())
        except error as exc:
            return Availability(False, f"nvmlDeviceGetCount failed: {exc}", "check `nvidia-smi`")
        finally:
            with contextlib.suppress(error):
                nvml.nvmlShutdown()
        if count == 0:
            return Availability(False, "NVML sees no GPU", "use --meter rapl or estimate")
        return Availability(True, f"{count} GPU(s)")

    # -- windows ---------------------------------------------------------------------------
    def _sample_loop(self) -> None:
        while not self._stop.wait(self.sample_interval_s):
            try:
                self._take_sample()
            except DeviceError as exc:
                self._sample_error = str(exc)
                return

    def _take_sample(self) -> None:
        powers = [self._power_w(h) for h in self._handles]
        self._samples.times_s.append(self.clock.monotonic())
        self._samples.power_w.append(powers)

    def begin(self) -> None:
        """Synchronise CUDA, then read the counters (or start sampling power)."""
        if self._t_begin_s is not None:
            raise DeviceError("NVML meter: begin() called twice without end()")
        self.sync()
        self._start_info = [self._telemetry(h) for h in self._handles]
        if self.method == "counter":
            self._start_mj = [
                int(self._call(self.nvml.nvmlDeviceGetTotalEnergyConsumption, h))
                for h in self._handles
            ]
            self._t_begin_s = self.clock.monotonic()
            return
        self._samples = _Samples()
        self._sample_error = None
        self._take_sample()
        self._t_begin_s = self._samples.times_s[0]
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._sample_loop, name="joulebench-nvml", daemon=True
        )
        self._thread.start()

    def _stop_sampling(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def end(self) -> list[EnergyReading]:
        """Synchronise CUDA, read the counters and return one reading per GPU plus ``gpu``."""
        if self._t_begin_s is None:
            raise DeviceError("NVML meter: end() called without begin()")
        t_begin_s, self._t_begin_s = self._t_begin_s, None
        self.sync()
        if self.method == "counter":
            end_mj = [
                int(self._call(self.nvml.nvmlDeviceGetTotalEnergyConsumption, h))
                for h in self._handles
            ]
            t_end_s = self.clock.monotonic()
            energies_j = self._counter_energies_j(end_mj)
        else:
            self._stop_sampling()
            self._take_sample()
            t_end_s = self._samples.times_s[-1]
            if self._sample_error is not None:
                raise InvalidWindowError(f"NVML window discarded: {self._sample_error}")
            energies_j = self._integrated_energies_j()
        duration_s = t_end_s - t_begin_s
        if duration_s < MIN_WINDOW_S:
            raise InvalidWindowError(
                f"NVML window discarded: it lasted {duration_s:.3f} s, under the {MIN_WINDOW_S} s "
                "that NVML's ~100 ms counter steps allow; raise --min-window-s"
            )
        common = {"short_window": duration_s < SHORT_WINDOW_S, "power_field": self.power_field}
        readings = []
        for index, name, energy_j, start, handle in zip(
            self.devices or [],
            self.device_names,
            energies_j,
            self._start_info,
            self._handles,
            strict=True,
        ):
            end_info = self._telemetry(handle)
            details = {
                **common,
                "name": name,
                **{f"{k}_begin": v for k, v in start.items()},
                **{f"{k}_end": v for k, v in end_info.items()},
            }
            readings.append(
                EnergyReading(f"gpu:{index}", energy_j, duration_s, self.method, "board", details)
            )
        total_details = {**common, "devices": list(self.devices or [])}
        readings.append(
            EnergyReading("gpu", sum(energies_j), duration_s, self.method, "board", total_details)
        )
        return readings

    def _counter_energies_j(self, end_mj: list[int]) -> list[float]:
        energies_j = []
        for index, start, end in zip(self.devices or [], self._start_mj, end_mj, strict=True):
            if end < start:
                raise InvalidWindowError(
                    f"NVML window discarded: gpu:{index} energy counter went back from {start} to "
                    f"{end} mJ (a driver reload or GPU reset)"
                )
            if end == start:
                raise InvalidWindowError(
                    f"NVML window discarded: gpu:{index} energy counter did not move "
                    "(a stalled counter, not 0 J)"
                )
            energies_j.append((end - start) / 1000.0)
        return energies_j

    def _integrated_energies_j(self) -> list[float]:
        times = self._samples.times_s
        if len(times) < 2:
            raise InvalidWindowError("NVML window discarded: fewer than two power samples")
        energies_j = []
        for column in range(len(self._handles)):
            powers = [row[column] for row in self._samples.power_w]
            from scipy.integrate import trapezoid  # here: slow to import

            energy_j = float(trapezoid(powers, times))
            if energy_j <= 0:
                raise InvalidWindowError("NVML window discarded: the power samples were all zero")
            energies_j.append(energy_j)
        return energies_j

    def close(self) -> None:
        """Stop sampling and shut NVML down. Safe to call twice."""
        self._stop_sampling()
        if self._initialised:
            self._initialised = False
            try:
                self.nvml.nvmlShutdown()
            except _nvml_error(self.nvml):
                pass
