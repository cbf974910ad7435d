"""Statistics of windows: the mean with its Student-t 95% interval, and pyperf-style checks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from joulebench.errors import MeasurementError

UNSTABLE_CV = 0.10
"""A coefficient of variation at or above this across windows is flagged (as pyperf does)."""
OUTLIER_FRAC = 0.50
"""A window this far from the mean (as a fraction of it) is flagged as an outlier."""


@dataclass(frozen=True, slots=True)
class Summary:
    """Mean of per-window values with the 95% confidence half-width (``mean ± ci95``).

    ``ci95`` is the half-width of the Student-t 95% confidence interval of the mean, not the
    standard deviation.
    """

    mean: float
    ci95: float
    std: float
    n: int
    median: float
    min: float
    max: float

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
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: data[k] for k in ("mean", "ci95", "std", "n", "median", "min", "max")})


def t_halfwidth(std: float, n: int, confidence: float = 0.95) -> float:
    """Half-width of the Student-t interval of a mean of ``n`` values with sample std ``std``."""
    if n < 2:
        raise MeasurementError(f"a confidence interval needs at least 2 windows, got {n}")
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1) * std / math.sqrt(n))


def summarize(values: Sequence[float], what: str = "values") -> Summary:
    """Summarise per-window values; refuses fewer than 2 or any non-finite value."""
    array = np.asarray(values, dtype=float)
    if array.size < 2:
        raise MeasurementError(
            f"{what}: need at least 2 valid windows for an interval, got {array.size}; "
            "raise --windows"
        )
    if not np.all(np.isfinite(array)):
        raise MeasurementError(f"{what}: a window gave a non-finite value ({array.tolist()})")
    std = float(array.std(ddof=1))
    return Summary(
        mean=float(array.mean()),
        ci95=t_halfwidth(std, int(array.size)),
        std=std,
        n=int(array.size),
        median=float(np.median(array)),
        min=float(array.min()),
        max=float(array.max()),
    )


def outliers(values: Sequence[float], frac: float = OUTLIER_FRAC) -> list[int]:
    """Indices of values at least ``frac`` x mean away from the mean."""
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if mean == 0:
        return []
    return [int(i) for i in np.flatnonzero(np.abs(array - mean) >= frac * abs(mean))]
