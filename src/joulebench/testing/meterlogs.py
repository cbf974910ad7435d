"""A simulated power meter's log: a known power trace sampled like a USB meter, written as CSV.

Used by the tests and benchmarks of the manual-meter flow, and public so course teams can try
their pipeline before they have a meter. The truth is the trace's exact energy, so an
integrator's error is known.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

LogStyle = Literal["fnb58", "um25c", "elapsed"]
BUS_VOLTAGE_V = 5.05


def sample_times(start_unix_s: float, duration_s: float, rate_hz: float) -> np.ndarray:
    """Sample times of a meter logging at ``rate_hz`` from ``start_unix_s`` for ``duration_s``."""
    return start_unix_s + np.arange(0.0, duration_s, 1.0 / rate_hz)


def write_meter_log(
    path: Path | str,
    power_w: Callable[[float], float],
    *,
    start_unix_s: float,
    duration_s: float,
    rate_hz: float,
    noise_frac: float = 0.0,
    seed: int = 0,
    style: LogStyle = "fnb58",
    tz: str = "UTC",
) -> Path:
    """Write the log a meter sampling ``power_w(t_unix_s)`` at ``rate_hz`` would have written.

    Each sample is the instantaneous power times seeded Gaussian noise (``noise_frac``), split
    into a bus voltage near 5 V and a current. Styles, as meters export them:

    * ``fnb58``: ``timestamp,sample_in_packet,voltage_V,current_A,...,energy_Ws`` (Unix s);
    * ``um25c``: ``Date;Voltage (V);Intensity (A);Power (W)``, naive wall-clock times in
      ``tz`` and decimal commas;
    * ``elapsed``: whitespace-separated ``elapsed_s power_mW`` (seconds since the start).
    """
    rng = np.random.default_rng(seed)
    times = sample_times(start_unix_s, duration_s, rate_hz)
    truth = np.array([power_w(float(t)) for t in times])
    powers = truth * (1.0 + noise_frac * rng.standard_normal(len(times)))
    volts = BUS_VOLTAGE_V * (1.0 + 0.002 * rng.standard_normal(len(times)))
    amps = powers / volts
    lines: list[str] = []
    if style == "fnb58":
        lines.append(
            "timestamp,sample_in_packet,voltage_V,current_A,dp_V,dn_V,temp_C_ema,energy_Ws,"
            "capacity_As"
        )
        energy_ws = np.concatenate(([0.0], np.cumsum(powers[:-1] / rate_hz)))
        for i, t in enumerate(times):
            lines.append(
                f"{t:.3f},{i % 4},{volts[i]:.5f},{amps[i]:.5f},0.6,0.6,31.2,"
                f"{energy_ws[i]:.6f},{energy_ws[i] / BUS_VOLTAGE_V:.6f}"
            )
    elif style == "um25c":
        zone = ZoneInfo(tz)
        lines.append("Date;Voltage (V);Intensity (A);Power (W)")
        for i, t in enumerate(times):
            stamp = datetime.fromtimestamp(float(t), zone).replace(tzinfo=None)
            numbers = f"{volts[i]:.4f};{amps[i]:.5f};{powers[i]:.4f}".replace(".", ",")
            lines.append(f"{stamp.isoformat(sep=' ', timespec='milliseconds')};{numbers}")
    elif style == "elapsed":
        lines.append("elapsed_s    power_mW")
        for i, t in enumerate(times):
            lines.append(f"{t - start_unix_s:.3f}    {powers[i] * 1000:.3f}")
    else:
        raise ValueError(f"unknown log style {style!r}")
    out = Path(path)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
