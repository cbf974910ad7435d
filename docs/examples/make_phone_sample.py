"""Write the SIMULATED sample used by docs/manual-meters.md (no real phone or meter involved).

A phone runs two variants and idles, in 60 s windows; a USB meter between charger and phone
logs at 2 Hz in the UM25C export style (semicolons, decimal commas, local wall-clock times).
The power trace is made up (idle 1.1 W, base-fp32 3.4 W, int8-torch 2.3 W, with noise), so the
worked example has a known answer. Run: python docs/examples/make_phone_sample.py
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from joulebench.testing import write_meter_log

HERE = Path(__file__).parent
ZONE = "Europe/Berlin"
START_S = 1_795_435_200.0  # 2026-11-23 12:00:00 UTC (13:00 in Berlin)
WINDOW_S = 60.0
PLAN = [  # (variant, inferences per window, watts)
    ("base-fp32", 1500, 3.4),
    ("int8-torch", 3300, 2.3),
    ("base-fp32", 1500, 3.4),
    ("int8-torch", 3300, 2.3),
    ("idle", 0, 1.1),
    ("base-fp32", 1500, 3.4),
    ("int8-torch", 3300, 2.3),
    ("idle", 0, 1.1),
]
GAP_S = 15.0
IDLE_W = 1.1


def main() -> None:
    """Write phone-windows.csv and phone-usb-meter-log.csv beside this script."""
    spans = []
    t = START_S + 30.0
    for variant, inferences, watts in PLAN:
        spans.append((variant, inferences, watts, t, t + WINDOW_S))
        t += WINDOW_S + GAP_S

    def power_w(t_s: float) -> float:
        for _, _, watts, a, b in spans:
            if a <= t_s < b:
                return watts
        return IDLE_W

    write_meter_log(
        HERE / "phone-usb-meter-log.csv",
        power_w,
        start_unix_s=START_S,
        duration_s=t - START_S + 30.0,
        rate_hz=2.0,
        noise_frac=0.04,
        seed=7,
        style="um25c",
        tz=ZONE,
    )
    zone = ZoneInfo(ZONE)

    def stamp(t_s: float) -> str:
        return datetime.fromtimestamp(t_s, zone).strftime("%Y-%m-%d %H:%M:%S")

    rows = ["variant,inferences,start_time,end_time"]
    rows += [f"{v},{n},{stamp(a)},{stamp(b)}" for v, n, _, a, b in spans]
    (HERE / "phone-windows.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
