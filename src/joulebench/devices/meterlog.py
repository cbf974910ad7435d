"""Reading a power meter's own log (CSV) into times and watts, whatever the meter called things.

A log has a time column and either a power column or voltage and current columns. Column
names are matched by meaning and unit, as meters export them: ``Voltage (V)``, ``Intensity
(A)``, ``voltage_V``, ``current_mA``, ``Power(W)``, ``timestamp``, ``Date``, ``elapsed_ms``.
Separators (comma, semicolon, tab, spaces) are detected; decimal commas are accepted.

Times may be Unix seconds or milliseconds, seconds since the log started, or wall-clock
timestamps (naive ones are local time unless ``tz`` names a zone).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from joulebench.devices.units import (
    CHARGE_UNITS_C,
    CURRENT_UNITS_A,
    ENERGY_UNITS_J,
    POWER_UNITS_W,
    TIME_UNITS_S,
    VOLTAGE_UNITS_V,
    normalize_unit,
    scale,
)
from joulebench.errors import UserError

TIME_NAMES = frozenset(
    {"time", "timestamp", "date", "datetime", "date time", "elapsed", "elapsed time", "t", "clock"}
)
VOLTAGE_NAMES = frozenset(
    {"voltage", "volt", "volts", "v", "vbus", "bus voltage", "u", "voltage now"}
)
CURRENT_NAMES = frozenset(
    {"current", "intensity", "amps", "amp", "i", "ibus", "curr", "current now"}
)
POWER_NAMES = frozenset({"power", "watts", "watt", "p"})
UNIX_AFTER_S = 1e8
"""A numeric time above this (1973) is Unix time; below, seconds since the log started."""
UNIX_MS_AFTER = 1e11
"""A unit-less numeric time above this is Unix milliseconds."""
MAX_PLAUSIBLE_W = 5000.0
"""A median power above this is a unit mistake (mW read as W), not a USB device or a plug."""
HEADER_ROW = 1
"""File row of the header: data row ``i`` (0-based) is file row ``i + 2``."""

_UNIT_TABLES = (
    TIME_UNITS_S, POWER_UNITS_W, VOLTAGE_UNITS_V, CURRENT_UNITS_A, ENERGY_UNITS_J, CHARGE_UNITS_C,
)  # fmt: skip
_TIME_OF_DAY = re.compile(r"^\s*\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?\s*$")
_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")


@dataclass(frozen=True)
class PowerLog:
    """A meter log: ``t_s`` (strictly increasing) and ``power_w`` per sample.

    ``time_kind`` is ``"unix"`` (Unix seconds) or ``"elapsed"`` (seconds since the log
    started: add the log's start time as ``clock_offset_s`` to align it with a run).
    """

    source: str
    t_s: np.ndarray
    power_w: np.ndarray
    time_kind: str
    columns: dict[str, str] = field(default_factory=dict)
    merged_duplicates: int = 0

    @property
    def sample_interval_s(self) -> float:
        """Median time between samples."""
        return float(np.median(np.diff(self.t_s))) if len(self.t_s) > 1 else float("nan")

    @property
    def sample_rate_hz(self) -> float:
        """Samples per second (the inverse of the median interval)."""
        return 1.0 / self.sample_interval_s

    def describe(self) -> dict[str, Any]:
        """What the log is, for a result's details."""
        return {
            "log": self.source,
            "log_samples": len(self.t_s),
            "log_rate_hz": round(self.sample_rate_hz, 4),
            "log_time_kind": self.time_kind,
            "log_columns": self.columns,
            "log_merged_duplicates": self.merged_duplicates,
        }


def split_header(header: str) -> tuple[str, str | None]:
    """``"Voltage (V)"`` -> ``("voltage", "v")``; ``"current_mA"`` -> ``("current", "ma")``."""
    text = header.strip().strip('"').strip()
    bracket = re.match(r"^(.*?)\s*[\(\[]\s*([^\)\]]*)\s*[\)\]]\s*$", text)
    if bracket:
        base, unit = bracket.group(1), bracket.group(2)
        return _base(base), normalize_unit(unit) or None
    if any(normalize_unit(text) in table for table in _UNIT_TABLES):
        return normalize_unit(text), normalize_unit(text)  # a bare "W", "V", "mA" header
    parts = re.split(r"[\s_]+", text)
    if len(parts) > 1 and any(normalize_unit(parts[-1]) in table for table in _UNIT_TABLES):
        return _base(" ".join(parts[:-1])), normalize_unit(parts[-1])
    return _base(text), None


def _base(name: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", name.lower()).split())


def _pick(
    columns: list[tuple[str, str, str | None]], names: frozenset[str], table: dict[str, float]
) -> tuple[str, str | None] | None:
    """First column whose base name is in ``names`` (a bare unit header counts by its unit)."""
    for raw, base, unit in columns:
        if base in names or (unit is not None and base == unit and unit in table):
            return raw, unit
    return None


def read_table(path: Path, what: str = "meter log") -> pd.DataFrame:
    """Read a CSV table (separator sniffed), every cell as text; one clear line on failure."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(8192)
    except FileNotFoundError:
        raise UserError(f"{what} {path} does not exist; check the path") from None
    except IsADirectoryError:
        raise UserError(f"{what} {path} is a folder; give the CSV file") from None
    except PermissionError:
        raise UserError(f"{what} {path} cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise UserError(f"{what} {path} is not text (UTF-8); save it as CSV") from None
    if not sample.strip():
        raise UserError(f"{what} {path} is empty; fill it in or export it again")
    first_line = sample.splitlines()[0]
    try:
        separator: str = csv.Sniffer().sniff(first_line, delimiters=",;\t").delimiter
    except csv.Error:
        separator = r"\s+"  # whitespace-separated, or a single column
    try:
        return pd.read_csv(
            path, sep=separator, engine="python", dtype=str, encoding="utf-8-sig",
            skip_blank_lines=True,
        )  # fmt: skip
    except (pd.errors.ParserError, ValueError) as exc:
        raise UserError(
            f"{what} {path} is not a CSV table ({exc}); export it as CSV with one header row"
        ) from None


def _numbers(frame: pd.DataFrame, column: str, source: str, *, signed: bool = False) -> np.ndarray:
    raw = frame[column].astype(str).str.strip()
    raw = raw.where(~raw.str.match(_DECIMAL_COMMA), raw.str.replace(",", ".", regex=False))
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() | ~np.isfinite(values.fillna(0.0))
    if bad.any():
        index = int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(
            f"meter log {source}, row {index + HEADER_ROW + 1}, column {column!r}: "
            f"{frame[column].iloc[index]!r} is not a number; fix or delete that row"
        )
    if not signed and (values < 0).any():
        index = int(np.flatnonzero((values < 0).to_numpy())[0])
        raise UserError(
            f"meter log {source}, row {index + HEADER_ROW + 1}, column {column!r}: negative "
            f"value {frame[column].iloc[index]!r}; the meter is wired backwards or the column "
            "is not what it seems"
        )
    return values.to_numpy(dtype=float)


def _local_zone() -> Any:
    from dateutil import tz as dateutil_tz  # pandas depends on python-dateutil

    return dateutil_tz.tzlocal()


def _times(
    frame: pd.DataFrame, column: str, unit: str | None, source: str, tz: str | None
) -> tuple[np.ndarray, str]:
    raw = frame[column].astype(str).str.strip()
    numeric = pd.to_numeric(raw.str.replace(",", ".", regex=False), errors="coerce")
    if numeric.notna().all():
        values = numeric.to_numpy(dtype=float)
        if unit is not None:
            values = values * scale(unit, TIME_UNITS_S, "time", where=f"{source} {column!r}")
        elif np.median(values) > UNIX_MS_AFTER:
            values = values / 1000.0
        return values, ("unix" if values[0] > UNIX_AFTER_S else "elapsed")
    time_only = raw.str.match(_TIME_OF_DAY)
    if time_only.any():
        index = int(np.flatnonzero(time_only.to_numpy())[0])
        raise UserError(
            f"meter log {source}, row {index + HEADER_ROW + 1}, column {column!r}: "
            f"{raw.iloc[index]!r} is a time of day with no date; export full timestamps "
            "(2026-11-23 14:05:01) or seconds"
        )
    parsed = pd.to_datetime(raw, errors="coerce", format="mixed")
    if parsed.isna().any():
        index = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise UserError(
            f"meter log {source}, row {index + HEADER_ROW + 1}, column {column!r}: cannot "
            f"parse the timestamp {raw.iloc[index]!r}; use ISO 8601 "
            "(2026-11-23 14:05:01.250), Unix seconds or seconds since the start"
        )
    if parsed.dt.tz is None:
        try:
            zone = ZoneInfo(tz) if tz else _local_zone()
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(
                f"unknown time zone {tz!r}; give an IANA name such as Europe/Berlin or UTC"
            ) from None
        parsed = parsed.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        if parsed.isna().any():
            index = int(np.flatnonzero(parsed.isna().to_numpy())[0])
            raise UserError(
                f"meter log {source}, row {index + HEADER_ROW + 1}: {raw.iloc[index]!r} is "
                "ambiguous or missing in local time (a daylight-saving change); give --tz UTC "
                "and UTC timestamps"
            )
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    seconds = (parsed.dt.tz_convert("UTC") - epoch).dt.total_seconds()
    return seconds.to_numpy(dtype=float), "unix"


def read_log(path: Path | str, *, tz: str | None = None, battery: bool = False) -> PowerLog:
    """Read a meter's CSV log into a :class:`PowerLog` (times in s, power in W).

    ``battery=True`` reads a phone's own battery log (Android's ``current_now`` in µA with
    ``voltage_now``): current is signed, negative while the battery discharges (Android's
    convention), so power drawn is ``-V x I``; a negative power in the result means the battery
    was charging, which voids the windows it falls in.

    Raises :class:`~joulebench.errors.UserError` naming the file, row and column for a missing
    column, an unparseable number or timestamp, a negative value, time going backwards, or a
    power too large to be real.
    """
    path = Path(path)
    source = str(path)
    frame = read_table(path).dropna(how="all")
    columns = [(raw, *split_header(str(raw))) for raw in frame.columns]
    if len(frame) < 2:
        raise UserError(f"meter log {source} has fewer than two samples; log for longer")
    time_col = _pick(columns, TIME_NAMES, TIME_UNITS_S)
    if time_col is None:
        raise UserError(
            f"meter log {source} has no time column (columns: {', '.join(map(str, frame.columns))}"
            "); name it time, timestamp or date"
        )
    t_s, time_kind = _times(frame, time_col[0], time_col[1], source, tz)
    used = {"time": str(time_col[0])}
    power_col = _pick(columns, POWER_NAMES, POWER_UNITS_W)
    if power_col is not None:
        unit = power_col[1] or "w"
        factor = scale(unit, POWER_UNITS_W, "power", where=f"{source} {power_col[0]!r}")
        power_w = _numbers(frame, power_col[0], source) * factor
        used["power"] = str(power_col[0])
    else:
        volt_col = _pick(columns, VOLTAGE_NAMES, VOLTAGE_UNITS_V)
        amp_col = _pick(columns, CURRENT_NAMES, CURRENT_UNITS_A)
        if volt_col is None or amp_col is None:
            raise UserError(
                f"meter log {source} needs a power column (W) or voltage and current columns "
                f"(columns: {', '.join(map(str, frame.columns))}); name them power_W, or "
                "voltage_V and current_A (mA, mV also accepted)"
            )
        volts = _numbers(frame, volt_col[0], source) * scale(
            volt_col[1] or "v", VOLTAGE_UNITS_V, "voltage", where=f"{source} {volt_col[0]!r}"
        )
        amps = _numbers(frame, amp_col[0], source, signed=battery) * scale(
            amp_col[1] or "a", CURRENT_UNITS_A, "current", where=f"{source} {amp_col[0]!r}"
        )
        power_w = -volts * amps if battery else volts * amps
        used["voltage"], used["current"] = str(volt_col[0]), str(amp_col[0])
    steps = np.diff(t_s)
    if (steps < 0).any():
        index = int(np.flatnonzero(steps < 0)[0]) + 1
        raise UserError(
            f"meter log {source}, row {index + HEADER_ROW + 1}, column {time_col[0]!r}: time "
            "goes backwards; the log is not in time order or two logs were joined"
        )
    merged = int((steps == 0).sum())
    if merged:  # several samples stamped with the same (coarse) time: average them
        table = pd.DataFrame({"t": t_s, "p": power_w}).groupby("t", sort=True)["p"].mean()
        t_s, power_w = table.index.to_numpy(dtype=float), table.to_numpy(dtype=float)
    if len(t_s) < 2:
        raise UserError(f"meter log {source} has fewer than two distinct times; log for longer")
    if float(np.median(power_w)) > MAX_PLAUSIBLE_W:
        raise UserError(
            f"meter log {source}: median power {np.median(power_w):.0f} W is not plausible; "
            f"columns {used} are probably in mW/mA/mV: say so in the header (e.g. current_mA)"
        )
    if battery and (power_w < 0).all():
        raise UserError(
            f"meter log {source}: the battery was charging in every sample (current > 0); "
            "unplug the phone, or, if this phone reports discharge as positive current, drop "
            "--battery-log and read it as a plain log"
        )
    return PowerLog(source, t_s, power_w, time_kind, used, merged)
