"""Meters by name, what each can do here, and the choice behind ``meter="auto"``.

Probing is done when asked, never at import time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joulebench.devices.base import Availability, EnergyMeter
from joulebench.devices.combined import CombinedMeter
from joulebench.devices.estimate import EstimateMeter
from joulebench.devices.nvml import NvmlMeter
from joulebench.devices.rapl import RaplMeter
from joulebench.devices.simulated import SimulatedMeter
from joulebench.errors import MeterUnavailableError, UserError

METERS: dict[str, type] = {
    "nvml": NvmlMeter,
    "rapl": RaplMeter,
    "estimate": EstimateMeter,
    "simulated": SimulatedMeter,
}
"""Every meter by name, best first (``auto`` considers the first three in this order)."""

METHOD_OF: dict[str, str] = {
    "nvml": "counter (or integrated)",
    "rapl": "counter",
    "estimate": "estimated",
    "simulated": "simulated",
}


@dataclass(frozen=True, slots=True)
class MeterStatus:
    """One row of ``joulebench meters``."""

    name: str
    available: bool
    method: str
    scope: str
    default_min_window_s: float
    reason: str
    fix: str


def probe_all(probes: dict[str, Callable[[], Availability]] | None = None) -> list[MeterStatus]:
    """Probe every meter; ``probes`` replaces a meter's probe (tests)."""
    rows = []
    for name, cls in METERS.items():
        probe = (probes or {}).get(name) or cls.probe
        availability = probe()
        scope = cls.scope if isinstance(cls.scope, str) else "package(+dram)"
        rows.append(
            MeterStatus(
                name,
                availability.available,
                METHOD_OF[name],
                scope,
                cls.default_min_window_s,
                availability.reason,
                availability.fix,
            )
        )
    return rows


def cuda_in_use() -> bool:
    """True when this process has imported torch and initialised CUDA (never imports torch)."""
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    return bool(cuda is not None and cuda.is_available() and cuda.is_initialized())


def check_meter_name(name: str) -> str:
    """``name`` normalised, if it is ``auto`` or a known meter; else one line listing them."""
    key = name.strip().lower()
    if key != "auto" and key not in METERS:
        raise UserError(
            f"unknown meter {name!r}; choose one of: auto, {', '.join(METERS)} "
            "(`joulebench meters` shows which work here)"
        )
    return key


def make_meter(name: str, **options: Any) -> EnergyMeter:
    """Build the meter called ``name``; raise with the reason and the fix if it cannot measure.

    A meter asked for by name never falls back to another one silently.
    """
    key = name.strip().lower()
    if key not in METERS:
        raise UserError(
            f"unknown meter {name!r}; choose one of: auto, {', '.join(METERS)} "
            "(`joulebench meters` shows which work here)"
        )
    cls = METERS[key]
    try:
        return cls(**options)
    except TypeError as exc:
        raise UserError(f"meter {key!r} does not take these options: {exc}") from None


def _with_host_meter(
    gpu_meter: EnergyMeter,
    reason: str,
    probes: dict[str, Callable[[], Availability]] | None,
) -> tuple[EnergyMeter, str]:
    """The GPU's meter, with RAPL's readings beside it where RAPL is readable."""
    probe = (probes or {}).get("rapl") or METERS["rapl"].probe
    availability = probe()
    if not availability:
        return gpu_meter, f"{reason}; host CPU not measured (rapl: {availability.reason})"
    try:
        host = make_meter("rapl")
    except MeterUnavailableError as exc:
        return gpu_meter, f"{reason}; host CPU not measured ({exc})"
    return CombinedMeter(gpu_meter, [host]), f"{reason}; rapl's readings kept beside it"


def choose_meter(
    meter: str | EnergyMeter = "auto",
    *,
    gpu: bool | None = None,
    probes: dict[str, Callable[[], Availability]] | None = None,
    **options: Any,
) -> tuple[EnergyMeter, str]:
    """Resolve ``meter`` (a name, ``"auto"``, or a meter object) to a meter and why it was chosen.

    ``auto``: NVML for a CUDA workload (``gpu=True``, or torch has initialised CUDA in this
    process), with RAPL's readings kept beside it where RAPL is readable; else RAPL, else the
    CPU-time estimate, saying why each better meter was passed over.
    """
    if not isinstance(meter, str):
        if not all(hasattr(meter, attr) for attr in ("begin", "end", "close", "primary_domain")):
            raise UserError(
                f"meter={meter!r} is neither a meter name nor an object with begin/end/close"
            )
        return meter, f"meter object {type(meter).__name__} given"
    if meter.strip().lower() != "auto":
        return make_meter(meter, **options), f"meter {meter.strip().lower()!r} asked for"
    wants_gpu = cuda_in_use() if gpu is None else gpu
    passed_over: list[str] = []
    candidates = (["nvml"] if wants_gpu else []) + ["rapl"]
    for name in candidates:
        probe = (probes or {}).get(name) or METERS[name].probe
        availability = probe()
        if availability:
            try:
                chosen = make_meter(name)
            except MeterUnavailableError as exc:
                passed_over.append(f"{name}: {exc}")
                continue
            reason = f"auto: {name} ({availability.reason})"
            if name == "nvml":
                return _with_host_meter(chosen, reason, probes)
            return chosen, reason
        else:
            passed_over.append(f"{name}: {availability.reason}")
    estimate_options = {
        k: v for k, v in options.items() if k in ("cpu_w_per_core", "idle_w", "cpu_time_s")
    }
    chosen = make_meter("estimate", **estimate_options)
    return chosen, "auto: estimate (ESTIMATED, not measured), because " + "; ".join(passed_over)
