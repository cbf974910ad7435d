"""Whole-device energy from a component counter, calibrated once against a wall or USB meter.

RAPL (package+dram) and NVML (board) leave out the rest of the device, so battery counts from
them are optimistic. On one machine, a run measured with the counter while a wall or USB meter
logged the whole device gives, for every window (idle windows included), the component's mean
power ``c`` and the whole device's ``w``. joulebench fits

    w = a x c + b

by least squares (``scipy.stats.linregress``), with intervals from the heteroscedasticity-
consistent HC3 covariance (a meter's noise grows with its reading): ``a`` carries the power
supply's losses and whatever else rises with load, ``b`` (W) the rest of the machine. The fit
is saved as a named profile under the user's data folder (platformdirs), per machine
fingerprint, and any later run of that machine with the same meter and scope gets whole-device
figures:

    energy per inference (whole device) = a x E + b x T

per window (``E``, ``T``: the window's component energy and duration per inference), with the
run's own interval for them (Student t, Stein or between runs, as the run made it) widened by
the fit's uncertainty in ``a`` and ``b`` (their covariance carried through), the two combined
with Welch-Satterthwaite degrees of freedom. ``bench/bench_calibration.py`` checks by
simulation that the fit's intervals and the calibrated figures' cover the truth at 95%.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
from scipy import stats

from joulebench.devices.clock_offset import estimate_clock_offset
from joulebench.devices.manual import energy_from_log
from joulebench.devices.meterlog import PowerLog
from joulebench.errors import ResultsError, UserError

CALIBRATED_METHODS = ("counter", "integrated", "simulated")
"""Energy methods a calibration may be fitted on or applied to: hardware readings, and
simulated ones (tests, the docs' walk-through), whose figures stay labelled simulated."""
MIN_WINDOWS = 6
MIN_SAMPLES = 3
"""Log samples a window must hold inside its edges."""
MIN_SPAN_FRAC = 0.2
"""Refuse a fit whose component power spans less than this share of its highest value."""
MAX_SLOPE_REL = 0.25
"""Refuse a fit whose slope's 95% half-width is more than this share of the slope."""
CHANGED_FIELDS = ("kernel", "governor", "boost", "smt", "rapl_power_limits_w", "gpu_driver")
"""Machine settings that may change the rest of the machine's power without a new id."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def calibrations_root(folder: Path | str | None = None) -> Path:
    """Where profiles live: ``folder``, or the user's data folder (platformdirs)."""
    if folder is not None:
        return Path(folder)
    return Path(platformdirs.user_data_dir("joulebench")) / "calibrations"


@dataclass(frozen=True)
class Calibration:
    """A fitted profile: whole-device power = ``slope`` x component power + ``intercept_w``."""

    name: str
    machine_id: str
    meter: str
    scope: str
    whole_scope: str
    slope: float
    slope_se: float
    intercept_w: float
    intercept_se_w: float
    covariance: float
    """Covariance of the slope and the intercept (W)."""
    windows: int
    component_range_w: tuple[float, float]
    residual_std_w: float
    run_id: str
    log: str
    clock_offset_s: float
    created_utc: str
    machine: dict[str, Any] = field(default_factory=dict)

    @property
    def dof(self) -> int:
        """Degrees of freedom of the fit (windows - 2)."""
        return self.windows - 2

    def interval(self, which: str) -> tuple[float, float]:
        """95% interval of ``slope`` or ``intercept_w``."""
        if which == "slope":
            value, se = self.slope, self.slope_se
        else:
            value, se = self.intercept_w, self.intercept_se_w
        half = float(stats.t.ppf(0.975, self.dof)) * se
        return value - half, value + half

    def describe(self) -> str:
        """One line: the model, its intervals and where it came from."""
        a_low, a_high = self.interval("slope")
        b_low, b_high = self.interval("intercept")
        return (
            f"whole device ({self.whole_scope}) = {self.slope:.4g} [{a_low:.4g}, {a_high:.4g}] "
            f"x {self.meter} ({self.scope}) + {self.intercept_w:.4g} W [{b_low:.4g}, "
            f"{b_high:.4g}] (95% intervals; {self.windows} windows of run {self.run_id}, "
            f"component power {self.component_range_w[0]:.3g}-{self.component_range_w[1]:.3g} "
            f"W, residual sd {self.residual_std_w:.3g} W)"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (the profile file)."""
        return {"kind": "joulebench-calibration", "version": 1, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str) -> Calibration:
        """A profile read back; a damaged one is one line naming the file."""
        numbers = ("slope", "slope_se", "intercept_w", "intercept_se_w", "covariance")
        try:
            fields = {k: v for k, v in data.items() if k not in ("kind", "version")}
            fields["component_range_w"] = tuple(fields["component_range_w"])
            calibration = cls(**fields)
            values = [float(getattr(calibration, name)) for name in numbers]
            if not all(math.isfinite(v) for v in values) or int(calibration.windows) < 3:
                raise ValueError("a fitted value is not a finite number")
            return calibration
        except (TypeError, KeyError, ValueError) as exc:
            raise ResultsError(
                f"calibration file {source} is damaged (missing or bad {exc}); fit it again "
                "with `joulebench calibrate`"
            ) from None


@dataclass(frozen=True)
class Fit:
    """The least-squares line and its uncertainty (what :func:`fit_line` returns)."""

    slope: float
    slope_se: float
    intercept_w: float
    intercept_se_w: float
    covariance: float
    residual_std_w: float
    windows: int
    component_range_w: tuple[float, float]


def fit_line(component_w: Sequence[float], whole_w: Sequence[float]) -> Fit:
    """Fit ``whole = a x component + b``; refuse too few windows or too narrow a power range."""
    x = np.asarray(component_w, dtype=float)
    y = np.asarray(whole_w, dtype=float)
    if x.size < MIN_WINDOWS:
        raise UserError(
            f"a calibration needs at least {MIN_WINDOWS} windows, the run has {x.size}; "
            "measure more windows (--windows) or more variants"
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise UserError("a window's power is not a number (NaN or infinite); rerun the windows")
    low, high = float(x.min()), float(x.max())
    if high <= 0 or high - low < MIN_SPAN_FRAC * high:
        raise UserError(
            f"the run's windows span only {low:.3g}-{high:.3g} W of component power (less than "
            f"{MIN_SPAN_FRAC:.0%} of the highest): a line cannot be fitted to one power level; "
            "calibrate on a run of variants of different load, idle windows included "
            "(e.g. `joulebench demo` or `run` with a small and a large model)"
        )
    line = stats.linregress(x, y)  # the least-squares line; its errors assume equal noise
    residuals = y - (line.intercept + line.slope * x)
    residual_std = float(np.sqrt(np.sum(residuals**2) / (x.size - 2)))
    covariance = hc3_covariance(x, residuals)
    slope_se, intercept_se = math.sqrt(covariance[1, 1]), math.sqrt(covariance[0, 0])
    half = float(stats.t.ppf(0.975, x.size - 2)) * slope_se
    if line.slope <= 0 or half > MAX_SLOPE_REL * line.slope:
        raise UserError(
            f"the fit's slope {line.slope:.3g} ± {half:.2g} (95%) is too uncertain to calibrate "
            f"with (more than ±{MAX_SLOPE_REL:.0%}): the wall meter's readings vary too much "
            "against the component's; use longer windows (--min-window-s), more windows, and "
            "variants of more different load"
        )
    return Fit(
        float(line.slope), slope_se, float(line.intercept), intercept_se,
        float(covariance[0, 1]), residual_std, int(x.size), (low, high),
    )  # fmt: skip


def hc3_covariance(x: np.ndarray, residuals: np.ndarray) -> np.ndarray:
    """Covariance of (intercept, slope) that holds when the noise differs between windows.

    A wall meter's noise grows with its reading, so the plain least-squares errors (equal
    noise assumed) understate the slope's: 92% coverage for a "95%" interval in simulation.
    MacKinnon and White's HC3 estimator, ``(X'X)^-1 X' diag(e^2 / (1 - h)^2) X (X'X)^-1``,
    covered 94-95% with the noise proportional to power or constant
    (``bench/bench_calibration.py``)."""
    design = np.column_stack([np.ones_like(x), x])
    inverse = np.linalg.inv(design.T @ design)
    leverage = np.einsum("ij,jk,ik->i", design, inverse, design)
    weights = residuals**2 / (1.0 - leverage) ** 2
    return inverse @ (design.T * weights) @ design @ inverse


def _span(window: dict[str, Any], source: str) -> tuple[float, float]:
    start, end = window.get("start_wall_s"), window.get("end_wall_s")
    if start is None or end is None:
        raise ResultsError(
            f"{source}: a window has no wall-clock times, so no meter log can be aligned to it; "
            "calibrate on a run joulebench drove"
        )
    return float(start), float(end)


def _component_w(window: dict[str, Any]) -> float:
    duration = window.get("meter_duration_s") or window.get("duration_s")
    return float(window["energy_j"]) / float(duration)


def check_hardware_run(document: dict[str, Any], source: str) -> dict[str, Any]:
    """The run's first measurement, refusing a run whose energy was not read from hardware."""
    if not document.get("measurements"):
        raise ResultsError(f"{source} holds no measurements to calibrate with")
    first = document["measurements"][0]
    if first.get("method") not in CALIBRATED_METHODS:
        raise UserError(
            f"{source} was measured with the {first.get('meter')} meter "
            f"({first.get('method_label', first.get('method'))}); a calibration maps a hardware "
            "counter (rapl, nvml) to the whole device: measure the run with --meter rapl or nvml"
        )
    return first


def paired_powers(
    document: dict[str, Any],
    log: PowerLog,
    clock_offset_s: float | str,
    source: str,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Every window's component power and the log's whole-device power over the same span
    (idle windows included), and the clock offset used (found from the log for ``"auto"``).

    The whole device's power is the mean of the log's samples inside each window
    (:func:`_interior_mean_w`)."""
    windows = [w for m in document["measurements"] for w in m.get("windows", [])]
    windows += document.get("idle_windows") or []
    spans = [_span(w, source) for w in windows]
    if clock_offset_s == "auto":
        clock_offset_s = estimate_clock_offset(log, spans).offset_s
    if not isinstance(clock_offset_s, int | float):
        raise UserError(f"clock offset {clock_offset_s!r}: give seconds or 'auto'")
    # checks that the log covers every window without gaps (one line naming the window)
    energy_from_log(log, spans, clock_offset_s=float(clock_offset_s))
    component = np.array([_component_w(w) for w in windows])
    whole = np.array([_interior_mean_w(log, float(clock_offset_s), span) for span in spans])
    return component, whole, float(clock_offset_s)


def _interior_mean_w(log: PowerLog, offset_s: float, span: tuple[float, float]) -> float:
    """Mean of the log's samples inside a window, one sample interval left out at each end.

    Integrating across a window's edges mixes in the power before and after it (a 10 Hz log
    over 2 s windows lowered the fitted slope by 3% in simulation): the interior of a steady
    window is its power."""
    step_s = log.sample_interval_s
    t_s = log.t_s + offset_s
    inside = (t_s >= span[0] + step_s) & (t_s <= span[1] - step_s)
    if int(inside.sum()) < MIN_SAMPLES:
        raise UserError(
            f"meter log {log.source} has {int(inside.sum())} samples inside a "
            f"{span[1] - span[0]:.2g} s window at {log.sample_rate_hz:.3g} Hz (at least "
            f"{MIN_SAMPLES} are needed, its edges left out): calibrate on a run with longer "
            "windows (--min-window-s)"
        )
    return float(log.power_w[inside].mean())


def calibrate(
    document: dict[str, Any],
    log: PowerLog,
    *,
    name: str,
    whole_scope: str = "wall",
    clock_offset_s: float | str = 0.0,
    source: str = "run",
) -> Calibration:
    """Fit a calibration from a counter-measured run and a meter log of the same windows."""
    check_name(name)
    first = check_hardware_run(document, source)
    component, whole, offset = paired_powers(document, log, clock_offset_s, source)
    line = fit_line(component, whole)
    return Calibration(
        name=name,
        machine_id=str(document.get("machine_id")),
        meter=str(first.get("meter")),
        scope=str(first.get("scope")),
        whole_scope=whole_scope,
        **asdict(line),
        run_id=str(document.get("run_id")),
        log=Path(log.source).name,
        clock_offset_s=offset,
        created_utc=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        machine=dict(document.get("machine") or {}),
    )


def check_name(name: str) -> str:
    """Refuse a profile name that is not a plain file name."""
    if not _NAME.match(name):
        raise UserError(
            f"calibration name {name!r}: use letters, digits, '.', '_' and '-' (e.g. wall-meter)"
        )
    return name


def profile_path(root: Path, machine_id: str, name: str) -> Path:
    """The file of profile ``name`` for ``machine_id``."""
    return root / machine_id / f"{check_name(name)}.json"


def save(calibration: Calibration, root: Path, *, replace: bool = False) -> Path:
    """Write the profile (atomically); an existing one is kept unless ``replace``."""
    from joulebench.reports.html import write_text  # atomic write, one-line errors

    path = profile_path(root, calibration.machine_id, calibration.name)
    if path.exists() and not replace:
        raise UserError(
            f"calibration {calibration.name!r} already exists for {calibration.machine_id} "
            f"({path}); choose another --name or pass --replace"
        )
    write_text(path, json.dumps(calibration.to_dict(), indent=1) + "\n")
    return path


def load_profiles(root: Path, name: str) -> dict[str, Calibration]:
    """Profile ``name`` of every machine that has one, by machine id."""
    check_name(name)
    found: dict[str, Calibration] = {}
    for path in sorted(root.glob(f"*/{name}.json")) if root.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ResultsError(
                f"cannot read calibration file {path} ({exc}); fit it again with "
                "`joulebench calibrate --replace`"
            ) from None
        calibration = Calibration.from_dict(data, str(path))
        found[calibration.machine_id] = calibration
    if not found:
        raise UserError(
            f"no calibration named {name!r} in {root}; fit one with `joulebench calibrate RUN "
            f"LOG --name {name}`"
        )
    return found


@dataclass(frozen=True)
class Calibrated:
    """A measurement's whole-device energy per inference (J) with its 95% half-width."""

    energy_j: float
    ci95_j: float
    dof: float


def _statistical(values: np.ndarray, windows: list[dict[str, Any]], m: dict[str, Any]
                 ) -> tuple[float, float, float]:  # fmt: skip
    """Mean, standard error and degrees of freedom of per-window values, as the run made its
    interval: Stein's pilot, between runs, or Student t over the windows."""
    interval = ((m.get("figures") or {}).get("energy_per_item_j") or {}).get("interval")
    mean = float(values.mean())
    if interval == "stein-two-stage":
        pilot = int((m.get("stopping") or {}).get("pilot_windows") or values.size)
        return mean, float(values[:pilot].std(ddof=1)) / math.sqrt(values.size), pilot - 1.0
    if interval == "between-runs":
        runs = np.array([int(w.get("run", 0)) for w in windows])
        means = np.array([values[runs == r].mean() for r in np.unique(runs)])
        return (
            float(means.mean()),
            float(means.std(ddof=1)) / math.sqrt(means.size),
            means.size - 1.0,
        )
    return mean, float(values.std(ddof=1)) / math.sqrt(values.size), values.size - 1.0


def whole_device(m: dict[str, Any], calibration: Calibration) -> Calibrated:
    """A measurement's energy per inference on the whole device, from its windows."""
    windows = [w for w in m.get("windows", []) if w.get("items")]
    if len(windows) < 2:
        raise ResultsError(f"{m.get('label')}: fewer than 2 windows with inferences")
    items = np.array([float(w["items"]) for w in windows])
    energy = np.array([float(w["energy_j"]) for w in windows]) / items
    duration = np.array([float(w["duration_s"]) for w in windows]) / items
    values = calibration.slope * energy + calibration.intercept_w * duration
    mean, se_stat, dof_stat = _statistical(values, windows, m)
    e_bar, t_bar = float(energy.mean()), float(duration.mean())
    var_fit = (
        e_bar**2 * calibration.slope_se**2
        + t_bar**2 * calibration.intercept_se_w**2
        + 2 * e_bar * t_bar * calibration.covariance
    )
    total = se_stat**2 + max(var_fit, 0.0)
    parts = se_stat**4 / dof_stat + var_fit**2 / calibration.dof
    dof = total**2 / parts if parts > 0 else math.inf
    return Calibrated(mean, float(stats.t.ppf(0.975, dof)) * math.sqrt(total), dof)


def machine_changes(calibration: Calibration, machine: dict[str, Any]) -> list[str]:
    """Settings of the machine that differ from when the calibration was fitted."""
    return [
        f"{key} {calibration.machine.get(key)!r} -> {machine.get(key)!r}"
        for key in CHANGED_FIELDS
        if key in calibration.machine and calibration.machine.get(key) != machine.get(key)
    ]
