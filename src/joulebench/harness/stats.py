"""Statistics of windows: the mean with its Student-t 95% interval, and pyperf-style checks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from joulebench.errors import MeasurementError
from joulebench.harness.stopping import stein_halfwidth
from joulebench.statistics.quantiles import t_quantile

UNSTABLE_CV = 0.10
"""A coefficient of variation at or above this across windows is flagged (as pyperf does)."""
OUTLIER_FRAC = 0.50
"""A window this far from the mean (as a fraction of it) is flagged as an outlier."""


@dataclass(frozen=True, slots=True)
class Summary:
    """Mean of per-window values with the 95% confidence half-width (``mean ± ci95``).

    ``ci95`` is the half-width of the 95% confidence interval of the mean, not the standard
    deviation. ``interval`` says how it was made: ``student-t`` over a fixed number of windows,
    or ``stein-two-stage`` when the number of windows was chosen from the first (pilot)
    windows to reach a target width (``harness.stopping``).
    """

    mean: float
    ci95: float
    std: float
    n: int
    median: float
    min: float
    max: float
    interval: str = "student-t"

    @property
    def rel_ci95(self) -> float:
        """``ci95 / mean`` (inf when the mean is 0)."""
        return self.ci95 / abs(self.mean) if self.mean else math.inf

    @property
    def cv(self) -> float:
        """Coefficient of variation, ``std / mean`` (inf when the mean is 0)."""
        return self.std / abs(self.mean) if self.mean else math.inf

    @property
    def low(self) -> float:
        """Lower end of the 95% interval."""
        return self.mean - self.ci95

    @property
    def high(self) -> float:
        """Upper end of the 95% interval."""
        return self.mean + self.ci95

    def scaled(self, factor: float) -> Summary:
        """The same figures in another unit or per another count (e.g. per call -> per item)."""
        return Summary(
            self.mean * factor,
            self.ci95 * factor,
            self.std * factor,
            self.n,
            self.median * factor,
            self.min * factor,
            self.max * factor,
            self.interval,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        """Inverse of :meth:`to_dict`."""
        keys = ("mean", "ci95", "std", "n", "median", "min", "max")
        return cls(**{k: data[k] for k in keys}, interval=data.get("interval", "student-t"))


def t_halfwidth(std: float, n: int, confidence: float = 0.95) -> float:
    """Half-width of the Student-t interval of a mean of ``n`` values with sample std ``std``."""
    if n < 2:
        raise MeasurementError(f"a confidence interval needs at least 2 windows, got {n}")
    return t_quantile(0.5 + confidence / 2, n - 1) * std / math.sqrt(n)


def summarize(
    values: Sequence[float], what: str = "values", *, pilot: int | None = None
) -> Summary:
    """Summarise per-window values; refuses fewer than 2 or any non-finite value.

    ``pilot``: the number of windows was chosen from the first ``pilot`` values (an adaptive
    stop); the interval is then Stein's two-stage interval (``harness.stopping``), which keeps
    its coverage, instead of the plain Student-t one, which would not.
    """
    array = np.asarray(values, dtype=float)
    if array.size < 2:
        raise MeasurementError(
            f"{what}: need at least 2 valid windows for an interval, got {array.size}; "
            "raise --windows"
        )
    if not np.all(np.isfinite(array)):
        raise MeasurementError(f"{what}: a window gave a non-finite value ({array.tolist()})")
    std = float(array.std(ddof=1))
    interval = "student-t"
    ci95 = t_halfwidth(std, int(array.size))
    if pilot is not None and 2 <= pilot <= array.size:
        ci95 = stein_halfwidth(array[:pilot].tolist(), int(array.size))
        interval = "stein-two-stage"
    return Summary(
        mean=float(array.mean()),
        ci95=ci95,
        std=std,
        n=int(array.size),
        median=float(np.median(array)),
        min=float(array.min()),
        max=float(array.max()),
        interval=interval,
    )


def outliers(values: Sequence[float], frac: float = OUTLIER_FRAC) -> list[int]:
    """Indices of values at least ``frac`` x mean away from the mean."""
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if mean == 0:
        return []
    return [int(i) for i in np.flatnonzero(np.abs(array - mean) >= frac * abs(mean))]
