"""A person's table of readings (CSV): one row per window, turned into energy readings.

Columns (matched by meaning; a unit may ride in the header, ``start (mWh)``, ``energy_J``):

* ``variant`` — the variant measured; ``idle`` rows are idle windows (for net figures);
* ``inferences`` — inferences run in the window (0 or empty for idle);
* one form: ``start`` and ``end`` counter readings, or ``energy`` (already the difference),
  or ``power`` (the average watts shown over the window);
* ``duration_s`` (or ``start_time`` and ``end_time`` timestamps);
* optional: ``unit`` (per row), ``voltage_v`` (for mAh), ``charging`` (yes voids the row).

With a meter's log (``log=``), a row may give only ``start_time`` and ``end_time``: its energy
is the log integrated over that window (form ``log``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import pandas as pd

from joulebench.devices.manual import (
    IDLE,
    ChargingWindowError,
    ManualWindow,
    average_reading,
    counter_reading,
    energy_from_log,
)
from joulebench.devices.meterlog import PowerLog, read_table, split_header
from joulebench.devices.units import POWER_UNITS_W, TIME_UNITS_S, scale
from joulebench.errors import UserError

NAMES: dict[str, frozenset[str]] = {
    "variant": frozenset({"variant", "model", "name", "label"}),
    "inferences": frozenset({"inferences", "n", "count", "calls", "items"}),
    "start": frozenset({"start", "start reading", "begin", "counter start"}),
    "end": frozenset({"end", "end reading", "stop", "counter end"}),
    "energy": frozenset({"energy", "energy used"}),
    "power": frozenset({"power", "avg power", "average power", "mean power", "watts", "avg w"}),
    "duration": frozenset({"duration", "seconds", "elapsed"}),
    "start_time": frozenset({"start time", "started", "start wall"}),
    "end_time": frozenset({"end time", "ended", "end wall"}),
    "voltage": frozenset({"voltage", "bus voltage", "voltage v"}),
    "unit": frozenset({"unit", "units"}),
    "charging": frozenset({"charging", "plugged", "plugged in"}),
}
TRUE_WORDS = frozenset({"1", "yes", "y", "true", "charging", "plugged"})


def _columns(frame: pd.DataFrame) -> dict[str, tuple[str, str | None]]:
    found: dict[str, tuple[str, str | None]] = {}
    for raw in frame.columns:
        base, unit = split_header(str(raw))
        for key, names in NAMES.items():
            if key not in found and (base in names or base.replace(" ", "") in names):
                found[key] = (str(raw), unit)
                break
    return found


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == ""


def _number(value: object, where: str, what: str) -> float:
    text = str(value).strip().replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise UserError(f"{where}: {what} {value!r} is not a number; fix that cell") from None
    if not math.isfinite(number):
        raise UserError(f"{where}: {what} is {value!r}, not a finite number; fix that cell")
    return number


def _timestamp(value: object, where: str, tz: str | None) -> float:
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    stamp = pd.to_datetime(text, errors="coerce")
    if pd.isna(stamp):
        raise UserError(f"{where}: cannot parse the time {text!r}; use 2026-11-23 14:05:01")
    if stamp.tzinfo is None:
        from dateutil import tz as dateutil_tz

        stamp = stamp.tz_localize(tz or dateutil_tz.tzlocal())
    return float(stamp.timestamp())


def read_readings(
    path: Path | str,
    *,
    unit: str | None = None,
    voltage_v: float | None = None,
    counts: Literal["up", "down"] = "up",
    scope: str = "usb",
    resolution: float | None = None,
    tz: str | None = None,
    log: PowerLog | None = None,
    clock_offset_s: float = 0.0,
) -> list[ManualWindow]:
    """Every row of a readings table as a :class:`~joulebench.devices.manual.ManualWindow`.

    ``unit``, ``voltage_v`` and ``resolution`` apply where the table has no column for them.
    A bad cell raises a :class:`~joulebench.errors.UserError` naming the file, row and column;
    a window in which a battery counter rose (or marked ``charging``) is kept as void.
    """
    path = Path(path)
    frame = read_table(path, "readings table").dropna(how="all")
    columns = _columns(frame)
    source = str(path)
    for needed in ("variant",):
        if needed not in columns:
            raise UserError(
                f"readings table {source} has no {needed!r} column "
                f"(columns: {', '.join(map(str, frame.columns))}); see `joulebench "
                "import-readings --help` for the layout"
            )
    has_counter = "start" in columns and "end" in columns
    has_times = "start_time" in columns and "end_time" in columns
    if not (has_counter or "energy" in columns or "power" in columns or (log and has_times)):
        raise UserError(
            f"readings table {source} needs start and end counter columns, an energy column, "
            "a power column (average watts), or start_time and end_time with a meter log "
            "(--log); add one, with its unit in the header: start (mWh)"
        )
    timed = "duration" in columns or ("start_time" in columns and "end_time" in columns)
    if not timed:
        raise UserError(
            f"readings table {source} needs a duration_s column (or start_time and end_time) "
            "to know each window's length; add it"
        )
    rows: list[ManualWindow] = []
    for index, record in enumerate(frame.to_dict("records")):
        line = index + 2

        def cell(key: str, record: dict = record) -> object:
            return record[columns[key][0]] if key in columns else None

        def where(key: str, line: int = line) -> str:
            return f"readings table {source}, row {line}, column {columns[key][0]!r}"

        label = str(cell("variant")).strip()
        if _blank(cell("variant")) or not label:
            raise UserError(f"{where('variant')}: no variant named; fill it in")
        idle = label.lower() == IDLE
        inferences = 0
        if not idle:
            if "inferences" not in columns or _blank(cell("inferences")):
                raise UserError(
                    f"readings table {source}, row {line}: no inference count for {label!r}; "
                    "add an inferences column with how many ran in the window"
                )
            count = _number(cell("inferences"), where("inferences"), "inference count")
            if count <= 0 or count != int(count):
                raise UserError(f"{where('inferences')}: {count:g} is not a positive whole count")
            inferences = int(count)
        start_wall_s = end_wall_s = None
        if "start_time" in columns and not _blank(cell("start_time")):
            start_wall_s = _timestamp(cell("start_time"), where("start_time"), tz)
            end_wall_s = _timestamp(cell("end_time"), where("end_time"), tz)
        if "duration" in columns and not _blank(cell("duration")):
            factor = scale(columns["duration"][1] or "s", TIME_UNITS_S, "time", where=source)
            duration_s = _number(cell("duration"), where("duration"), "duration") * factor
        elif start_wall_s is not None and end_wall_s is not None:
            duration_s = end_wall_s - start_wall_s
        else:
            raise UserError(f"readings table {source}, row {line}: no duration; fill it in")
        if duration_s <= 0:
            raise UserError(f"readings table {source}, row {line}: duration must be positive")
        row_unit = unit
        if "unit" in columns and not _blank(cell("unit")):
            row_unit = str(cell("unit")).strip()
        row_voltage = voltage_v
        if "voltage" in columns and not _blank(cell("voltage")):
            row_voltage = _number(cell("voltage"), where("voltage"), "voltage")
        charging = "charging" in columns and str(cell("charging")).strip().lower() in TRUE_WORDS
        try:
            if has_counter and not _blank(cell("start")):
                key_unit = row_unit or columns["start"][1] or columns["end"][1]
                if key_unit is None:
                    raise UserError(
                        f"{where('start')}: no unit for the counter readings; put it in the "
                        "header (start (mWh)), in a unit column, or give --unit"
                    )
                reading = counter_reading(
                    _number(cell("start"), where("start"), "start reading"),
                    _number(cell("end"), where("end"), "end reading"),
                    key_unit,
                    duration_s,
                    voltage_v=row_voltage,
                    counts=counts,
                    resolution=resolution,
                    domain=scope,
                    scope=scope,
                    where=f"readings table {source}, row {line}",
                )
            elif "energy" in columns and not _blank(cell("energy")):
                key_unit = row_unit or columns["energy"][1]
                if key_unit is None:
                    raise UserError(f"{where('energy')}: no unit; put it in the header (energy_J)")
                value = _number(cell("energy"), where("energy"), "energy")
                reading = counter_reading(
                    0.0, value, key_unit, duration_s, voltage_v=row_voltage,
                    resolution=resolution, domain=scope, scope=scope,
                    where=f"readings table {source}, row {line}",
                )  # fmt: skip
            elif "power" in columns and not _blank(cell("power")):
                factor = scale(columns["power"][1] or "w", POWER_UNITS_W, "power", where=source)
                power_w = _number(cell("power"), where("power"), "average power") * factor
                reading = average_reading(
                    power_w, duration_s, domain=scope, scope=scope, where=where("power")
                )
            elif log is not None and start_wall_s is not None and end_wall_s is not None:
                (reading,) = energy_from_log(
                    log, [(start_wall_s, end_wall_s)], clock_offset_s=clock_offset_s,
                    domain=scope, scope=scope,
                )  # fmt: skip
            else:
                raise UserError(f"readings table {source}, row {line}: no reading; fill it in")
        except ChargingWindowError as exc:  # the battery charged: void, not an error
            rows.append(ManualWindow(label, inferences, None, str(exc)))
            continue
        if charging:
            rows.append(
                ManualWindow(label, inferences, None, f"row {line} is marked charging: void")
            )
            continue
        rows.append(ManualWindow(label, inferences, reading, None, start_wall_s, end_wall_s))
    if not rows:
        raise UserError(f"readings table {source} has no rows; fill it in")
    return rows
