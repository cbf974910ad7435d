"""RAPL energy counters through Linux powercap (``/sys/class/powercap``), Intel and AMD.

What this adapter gets right (the bugs not to repeat are CodeCarbon #1309, pyJoules #21 and
benchexec #1283):

* **Wrap-around.** ``energy_uj`` wraps at ``max_energy_range_uj``. A background thread reads
  every zone at least every ``range / (2 * max_power_w)`` seconds, so a window of any length
  may wrap any number of times; each zone's wraps are counted on their own. Two equal
  readings are 0 J, not a wrap. A gap between reads longer than ``range / max_power_w`` makes
  the window invalid (it cannot be unwrapped without guessing). A step that implies more
  than ``max_power_w`` (a reset, a counter that went backwards) also invalidates the window:
  energy is never negative and never clamped to 0.
* **Scope.** ``cpu`` = packages + dram. ``core``/``uncore`` are inside their package and are
  never added on top of it; ``psys`` (the whole SoC) overlaps the packages and stays its own
  domain; ``intel-rapl-mmio`` zones duplicate a package and are skipped; AMD zones that mirror
  one counter are counted once.
* **Permissions.** ``energy_uj`` is root-only since Linux 5.10 (CVE-2020-8694): the meter
  says so, lists the zones it saw and gives the exact fix; it never reports 0 J instead.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from joulebench.clock import SYSTEM_CLOCK, Clock
from joulebench.devices.base import Availability, EnergyReading, MeterAccuracy, Method
from joulebench.errors import (
    DeviceError,
    InvalidReadingError,
    InvalidWindowError,
    MeterUnavailableError,
)

DEFAULT_ROOT = Path("/sys/class/powercap")
ACCURACY = MeterAccuracy(
    0.05,
    "assumed: Intel and AMD state no accuracy for RAPL; validations against external meters "
    "(Hackenberg et al. 2013 and 2015, Desrochers et al. 2016) found package readings within "
    "a few percent from Haswell on, DRAM and older model-based parts worse",
)
DEFAULT_MAX_POWER_W = 1000.0
"""Upper bound on any zone's power; sets the poll interval and rejects impossible steps."""
MAX_POLL_INTERVAL_S = 1.0
"""Poll at least once a second even when the range would allow less (cheap: a few reads)."""
STEP_SLACK_S = 0.01
"""RAPL updates its counter about every 1 ms: allow this much slack when checking a step."""

_ZONE_RE = re.compile(r"^(?P<kind>intel-rapl|intel-rapl-mmio)(?P<index>(:\d+)+)$")

Reader = Callable[[Path], str]


def read_sysfs(path: Path) -> str:
    """Read one sysfs attribute as text (the boundary that tests replace)."""
    return path.read_text()


@dataclass(frozen=True, slots=True)
class RaplZone:
    """One powercap zone: where it is, what it covers and how far its counter goes."""

    zone_id: str
    path: Path
    name: str
    parent_id: str | None
    max_range_uj: int
    domain: str
    scope: str


@dataclass(slots=True)
class _Track:
    """Running state of one zone during a window."""

    first_raw_uj: int
    last_raw_uj: int
    last_t_s: float
    """When the last read of this zone began (its value is no older than this)."""
    total_uj: int = 0
    wraps: int = 0


def _scope_of(name: str) -> str:
    if name.startswith("package"):
        return "package"
    return name  # core, uncore, dram, psys


def _permission_fix(zone_ids: list[str]) -> str:
    conf = "; ".join(f"mode class/powercap/{z}/energy_uj = 0444" for z in zone_ids)
    return (
        "energy_uj is root-only since Linux 5.10 (CVE-2020-8694). Fix: run as root, or for "
        "this boot `sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj`, or for every "
        'boot add the udev rule `ACTION=="add", SUBSYSTEM=="powercap", '
        'RUN+="/bin/chmod a+r /sys%p/energy_uj"` to /etc/udev/rules.d/99-rapl.rules '
        "(then `sudo udevadm trigger --subsystem-match=powercap --action=add`), or with "
        f"sysfsutils add to /etc/sysfs.conf: {conf}"
    )


def _parse_uj(text: str, where: Path) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidReadingError(
            f"RAPL counter {where} gave {text.strip()!r}, not a whole number of microjoules; "
            "the powercap driver is broken or the path is not an energy counter"
        ) from None
    if value < 0:
        raise InvalidReadingError(f"RAPL counter {where} gave a negative value ({value} uJ)")
    return value


def _read_uj(reader: Reader, path: Path, zone_ids: list[str]) -> int:
    try:
        return _parse_uj(reader(path), path)
    except PermissionError:
        raise MeterUnavailableError(
            f"cannot read {path}: permission denied (zones seen: {', '.join(zone_ids)}). "
            + _permission_fix(zone_ids)
        ) from None
    except OSError as exc:
        raise DeviceError(
            f"cannot read RAPL counter {path}: {exc.strerror or exc}; "
            "check that the powercap driver is loaded (`modprobe intel_rapl_common`)"
        ) from None


def discover_zones(
    root: Path = DEFAULT_ROOT, reader: Reader = read_sysfs
) -> tuple[list[RaplZone], list[str]]:
    """Find the RAPL zones under ``root``; return them and a note for each zone left out.

    mmio zones that duplicate a package are left out; a zone whose range cannot be read is
    left out with a warning (its wraps could not be handled).
    """
    if not root.is_dir():
        return [], []
    entries = sorted(p for p in root.iterdir() if _ZONE_RE.match(p.name))
    names: dict[str, str] = {}
    notes: list[str] = []
    for entry in entries:
        try:
            names[entry.name] = reader(entry / "name").strip()
        except OSError as exc:
            notes.append(f"{entry.name}: name unreadable ({exc.strerror or exc}), left out")
    msr_names = {
        n
        for zid, n in names.items()
        if _ZONE_RE.match(zid)["kind"] == "intel-rapl"  # type: ignore[index]
    }
    candidates: list[tuple[str, str, str | None]] = []
    for zone_id, name in names.items():
        match = _ZONE_RE.match(zone_id)
        assert match is not None
        index = match["index"]
        if match["kind"] == "intel-rapl-mmio" and name in msr_names and index.count(":") == 1:
            notes.append(f"{zone_id}: mmio zone duplicating {name}, skipped")
            continue
        parent = f"{match['kind']}{index.rsplit(':', 1)[0]}" if index.count(":") > 1 else None
        candidates.append((zone_id, name, parent))
    name_counts: dict[str, int] = {}
    for _, name, _ in candidates:
        name_counts[name] = name_counts.get(name, 0) + 1
    zones: list[RaplZone] = []
    for zone_id, name, parent in candidates:
        path = root / zone_id
        try:
            max_range = _parse_uj(reader(path / "max_energy_range_uj"), path)
        except (OSError, InvalidReadingError) as exc:
            note = f"{zone_id} ({name}): max_energy_range_uj unreadable, left out ({exc})"
            warnings.warn(note, RuntimeWarning, stacklevel=2)
            notes.append(note)
            continue
        if max_range <= 0:
            notes.append(f"{zone_id} ({name}): max_energy_range_uj is {max_range}, left out")
            continue
        if name_counts[name] == 1 or parent is None:
            domain = f"cpu:{name}"
        else:
            domain = f"cpu:{names.get(parent, parent)}:{name}"
        zones.append(RaplZone(zone_id, path, name, parent, max_range, domain, _scope_of(name)))
    return zones, notes


@dataclass
class RaplMeter:
    """Energy from RAPL counters (Linux powercap). ``cpu`` = packages + dram.

    ``max_power_w`` bounds any zone's power: it sets how often the counters are polled
    (every ``range / (2 * max_power_w)`` s at most) and rejects impossible steps.
    """

    root: Path = DEFAULT_ROOT
    max_power_w: float = DEFAULT_MAX_POWER_W
    clock: Clock = SYSTEM_CLOCK
    reader: Reader = read_sysfs
    poll_s: float | None = None
    """Seconds between reads; None = derived from the zones' ranges (tests set it)."""

    name: ClassVar[str] = "rapl"
    method: ClassVar[Method] = "counter"
    primary_domain: ClassVar[str] = "cpu"
    default_min_window_s: ClassVar[float] = 2.0
    update_period_s: ClassVar[float] = 0.001
    accuracy: ClassVar[MeterAccuracy] = ACCURACY

    zones: list[RaplZone] = field(init=False)
    notes: list[str] = field(init=False)
    _tracks: dict[str, _Track] = field(init=False, default_factory=dict)
    _invalid: str | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _stop: threading.Event = field(init=False, default_factory=threading.Event)
    _thread: threading.Thread | None = field(init=False, default=None)
    _t_begin_s: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        availability = self.probe(self.root, self.reader)
        if not availability:
            raise MeterUnavailableError(f"RAPL meter: {availability.message()}")
        self.zones, self.notes = discover_zones(self.root, self.reader)
        if not any(z.scope == "package" for z in self.zones):
            raise MeterUnavailableError(
                f"RAPL meter: no package zone under {self.root} has a readable range; "
                "use --meter estimate, or check the powercap driver"
            )

    @property
    def scope(self) -> str:  # type: ignore[override]
        """``package+dram`` where a dram zone exists, else ``package``."""
        return "package+dram" if any(z.scope == "dram" for z in self.zones) else "package"

    @property
    def poll_interval_s(self) -> float:
        """Seconds between counter reads: half the shortest time any zone may take to wrap."""
        if self.poll_s is not None:
            return self.poll_s
        shortest_s = min(z.max_range_uj for z in self.zones) / 1e6 / self.max_power_w
        return min(shortest_s / 2, MAX_POLL_INTERVAL_S)

    @classmethod
    def probe(cls, root: Path = DEFAULT_ROOT, reader: Reader = read_sysfs) -> Availability:
        """Available where powercap exposes a readable RAPL package counter."""
        root = Path(root)
        if not root.is_dir():
            return Availability(
                False,
                f"no powercap interface at {root} (not Linux, the RAPL driver is not loaded, "
                "or a VM or container that hides it)",
                "on bare-metal Linux run `sudo modprobe intel_rapl_common` (Intel and AMD); "
                "else use --meter estimate or a manual meter",
            )
        zones, _ = discover_zones(root, reader)
        zone_ids = [z.zone_id for z in zones]
        if not any(z.scope == "package" for z in zones):
            return Availability(
                False,
                f"no RAPL package zone under {root} (zones seen: {', '.join(zone_ids) or 'none'})",
                "load the RAPL driver (`sudo modprobe intel_rapl_common`) or use --meter estimate",
            )
        for zone in zones:
            try:
                _parse_uj(reader(zone.path / "energy_uj"), zone.path)
            except PermissionError:
                return Availability(
                    False,
                    f"cannot read {zone.path / 'energy_uj'}: permission denied "
                    f"(zones seen: {', '.join(zone_ids)})",
                    _permission_fix(zone_ids),
                )
            except (OSError, InvalidReadingError) as exc:
                return Availability(
                    False,
                    f"cannot read {zone.path / 'energy_uj'}: {exc}",
                    "check the powercap driver or use --meter estimate",
                )
        return Availability(True, f"{len(zones)} zones: {', '.join(z.domain for z in zones)}")

    # -- reading ---------------------------------------------------------------------------
    def _read_all(self) -> tuple[dict[str, tuple[int, float, float]], float]:
        """Every zone's value with the times just before and just after reading it.

        Each zone keeps its own times: a thread paused between two zones' reads must not make
        one zone's value look younger than it is.
        """
        zone_ids = [z.zone_id for z in self.zones]
        reads: dict[str, tuple[int, float, float]] = {}
        for zone in self.zones:
            before_s = self.clock.monotonic()
            raw = _read_uj(self.reader, zone.path / "energy_uj", zone_ids)
            reads[zone.zone_id] = (raw, before_s, self.clock.monotonic())
        return reads, self.clock.monotonic()

    def _advance(self, reads: dict[str, tuple[int, float, float]]) -> None:
        """Fold one set of reads into the running totals (called with the lock held).

        The gap between two reads of a zone is taken at its widest (from the start of the
        earlier read to the end of the later), so a doubtful gap invalidates the window.
        """
        for zone in self.zones:
            track = self._tracks[zone.zone_id]
            raw, before_s, after_s = reads[zone.zone_id]
            gap_s = after_s - track.last_t_s
            wrap_s = zone.max_range_uj / 1e6 / self.max_power_w
            if raw > zone.max_range_uj:
                self._invalid = (
                    f"{zone.domain}: energy_uj {raw} exceeds max_energy_range_uj "
                    f"{zone.max_range_uj}"
                )
            if gap_s > wrap_s:
                self._invalid = (
                    f"{zone.domain}: {gap_s:.3f} s between counter reads, longer than the "
                    f"{wrap_s:.3f} s in which it may wrap (was the process suspended?)"
                )
            if raw >= track.last_raw_uj:
                step_uj = raw - track.last_raw_uj
            else:
                step_uj = zone.max_range_uj - track.last_raw_uj + raw
                track.wraps += 1
            if step_uj / 1e6 > self.max_power_w * (gap_s + STEP_SLACK_S):
                self._invalid = (
                    f"{zone.domain}: counter stepped from {track.last_raw_uj} to {raw} uJ in "
                    f"{gap_s:.3f} s (over {self.max_power_w:.0f} W): it was reset or went "
                    "backwards"
                )
            track.total_uj += step_uj
            track.last_raw_uj = raw
            track.last_t_s = before_s

    def poll_now(self) -> None:
        """Read every zone once and fold the reads into the window (the thread calls this)."""
        reads, _ = self._read_all()
        with self._lock:
            self._advance(reads)

    def _poll_loop(self) -> None:
        interval_s = self.poll_interval_s
        while not self._stop.wait(interval_s):
            try:
                self.poll_now()
            except DeviceError as exc:  # recorded, raised as an invalid window by end()
                with self._lock:
                    self._invalid = f"counter read failed during the window: {exc}"
                return

    def begin(self) -> None:
        """Read every zone's start value and start polling."""
        if self._thread is not None:
            raise DeviceError("RAPL meter: begin() called twice without end()")
        reads, t_s = self._read_all()
        self._t_begin_s = t_s
        self._invalid = None
        self._tracks = {
            zid: _Track(raw, raw, before_s) for zid, (raw, before_s, _) in reads.items()
        }
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll_loop, name="joulebench-rapl", daemon=True)
        self._thread.start()

    def _stop_polling(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def end(self) -> list[EnergyReading]:
        """Stop polling, read the final values and return one reading per zone plus ``cpu``."""
        if self._thread is None:
            raise DeviceError("RAPL meter: end() called without begin()")
        self._stop_polling()
        reads, t_s = self._read_all()
        with self._lock:
            self._advance(reads)
            if self._invalid is not None:
                raise InvalidWindowError(f"RAPL window discarded: {self._invalid}")
            tracks = dict(self._tracks)
        duration_s = t_s - self._t_begin_s
        readings: list[EnergyReading] = []
        for zone in self.zones:
            track = tracks[zone.zone_id]
            readings.append(
                EnergyReading(
                    zone.domain,
                    track.total_uj / 1e6,
                    duration_s,
                    "counter",
                    zone.scope,
                    {
                        "wraps": track.wraps,
                        "zone": zone.zone_id,
                        "first_uj": track.first_raw_uj,
                        "last_uj": track.last_raw_uj,
                    },
                )
            )
        readings.append(self._total(tracks, duration_s))
        return readings

    def _total(self, tracks: dict[str, _Track], duration_s: float) -> EnergyReading:
        counted: list[RaplZone] = []
        mirrored: list[str] = []
        for zone in self.zones:
            if zone.scope not in ("package", "dram"):
                continue
            track = tracks[zone.zone_id]
            twin = next(
                (
                    c
                    for c in counted
                    if c.scope == zone.scope
                    and tracks[c.zone_id].first_raw_uj == track.first_raw_uj
                    and tracks[c.zone_id].last_raw_uj == track.last_raw_uj
                    and track.total_uj > 0
                ),
                None,
            )
            if twin is not None:
                mirrored.append(f"{zone.zone_id}={twin.zone_id}")
                continue
            counted.append(zone)
        total_uj = sum(tracks[z.zone_id].total_uj for z in counted)
        if total_uj == 0:
            raise InvalidWindowError(
                f"RAPL window discarded: the counters did not move in {duration_s:.3f} s "
                "(a stalled counter, not 0 J)"
            )
        return EnergyReading(
            "cpu",
            total_uj / 1e6,
            duration_s,
            "counter",
            self.scope,
            {"zones": [z.zone_id for z in counted], "mirrored": mirrored},
        )

    def close(self) -> None:
        """Stop the polling thread if a window is open."""
        self._stop_polling()
