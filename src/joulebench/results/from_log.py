"""A run's energy figures remade from a power meter's own log (``joulebench import-log``).

The run recorded each window's wall-clock start and end; the meter (a USB meter in front of a
Raspberry Pi, a plug meter in front of a laptop) logged power on its own clock. Integrating the
log over each window gives the energy the meter saw, with the run's statistics. The result is a
new document beside the run (``method="manual"``, form ``log``); the run itself is untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from joulebench.devices.base import MeterAccuracy
from joulebench.devices.clock_offset import estimate_clock_offset
from joulebench.devices.manual import (
    IDLE,
    MANUAL_ACCURACY,
    ChargingWindowError,
    ManualWindow,
    energy_from_log,
)
from joulebench.devices.meterlog import read_log
from joulebench.errors import ResultsError
from joulebench.harness.manual_run import manual_results
from joulebench.results.frame import read_document
from joulebench.results.store import build_document


def _windows(windows: list[dict[str, Any]], label: str, source: str) -> list[tuple[float, float]]:
    spans = []
    for window in windows:
        if window.get("start_wall_s") is None or window.get("end_wall_s") is None:
            raise ResultsError(
                f"{source}: window {window.get('round_index')} of {label!r} has no wall-clock "
                "times, so no log can be aligned to it; import-log needs a run joulebench drove"
            )
        spans.append((float(window["start_wall_s"]), float(window["end_wall_s"])))
    return spans


def document_from_log(
    run_path: Path | str,
    log_path: Path | str,
    *,
    clock_offset_s: float | str = 0.0,
    tz: str | None = None,
    scope: str = "usb",
    battery_log: bool = False,
    accuracy: MeterAccuracy = MANUAL_ACCURACY,
) -> dict[str, Any]:
    """A new run document whose energy comes from the meter log, aligned to the run's windows.

    ``clock_offset_s="auto"`` finds the offset from the log itself (``devices.clock_offset``):
    the one at which the log's power steps line up with the run's windows; it is recorded.
    """
    source = str(run_path)
    run = read_document(run_path)
    log = read_log(log_path, tz=tz, battery=battery_log)
    items: list[ManualWindow] = []
    groups = [(m["label"], m["windows"]) for m in run["measurements"]]
    groups.append((IDLE, run.get("idle_windows") or []))
    estimate = None
    if clock_offset_s == "auto":
        spans = [span for label, ws in groups for span in _windows(ws, label, source)]
        estimate = estimate_clock_offset(log, spans)
        clock_offset_s = estimate.offset_s
    if not isinstance(clock_offset_s, (int, float)):
        raise ResultsError(f"clock offset {clock_offset_s!r}: give seconds or 'auto'")
    for label, windows in groups:
        for window, (start_s, end_s) in zip(windows, _windows(windows, label, source), strict=True):
            inferences = 0 if label == IDLE else int(window["items"])
            try:
                (reading,) = energy_from_log(
                    log, [(start_s, end_s)], clock_offset_s=clock_offset_s, domain=scope,
                    scope=scope,
                )  # fmt: skip
            except ChargingWindowError as exc:  # a phone's battery log: charging voids it
                items.append(ManualWindow(label, inferences, None, str(exc), start_s, end_s))
                continue
            items.append(ManualWindow(label, inferences, reading, None, start_s, end_s))
    results = manual_results(
        items, scope=scope, device=run["machine_id"], source=source, accuracy=accuracy
    )
    extra = {
        "from_run": {
            "run_id": run["run_id"],
            "file": source,
            "meter": run["measurements"][0]["meter"],
        },
        "clock_offset_s": clock_offset_s,
        "clock_offset_estimated": estimate.to_dict() if estimate else None,
        **log.describe(),
    }
    document = build_document(results, extra=extra)
    document["machine_id"], document["machine"] = run["machine_id"], run["machine"]
    by_label = {m["label"]: m for m in run["measurements"]}
    for measurement, result in zip(document["measurements"], results, strict=True):
        original = by_label[result.label]
        variant = original.get("variant")
        if variant:
            net = result.net_energy_per_item_j
            measurement["variant"] = {
                **variant,
                "energy_per_inference_j": result.energy_per_item_j.to_dict(),
                "net_energy_per_inference_j": net.to_dict() if net else None,
            }
    document["failures"] = run.get("failures", [])
    document["task"] = run.get("task", {})
    return document
