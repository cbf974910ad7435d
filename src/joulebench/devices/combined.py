"""One meter that reads several: the GPU's meter for the figure, the CPU's beside it.

A variant on a GPU still spends energy on the host (tokenising, launching kernels, copying):
where RAPL is readable as well, its readings are kept in every window next to the GPU's, as
their own domains (``cpu``, ``cpu:package-0``, ...). The primary figure is the first meter's;
the others are never added to it (their scopes differ: board vs package).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from joulebench.devices.base import Availability, EnergyMeter, EnergyReading, meter_accuracy
from joulebench.errors import DeviceError, InvalidWindowError


class CombinedMeter:
    """``primary``'s figure, with each of ``others``' readings kept beside it."""

    def __init__(self, primary: EnergyMeter, others: Sequence[EnergyMeter]) -> None:
        self.primary = primary
        self.others = list(others)
        self.name = primary.name  # the figure is the primary meter's
        self.method = primary.method
        self.scope = primary.scope
        self.primary_domain = primary.primary_domain
        self.default_min_window_s = max(m.default_min_window_s for m in [primary, *self.others])
        self.min_allowed_window_s = max(
            getattr(m, "min_allowed_window_s", 0.0) for m in [primary, *self.others]
        )
        self.accuracy = meter_accuracy(primary)
        self.secondary = [f"{m.name} ({m.scope})" for m in self.others]

    def __getattr__(self, attr: str) -> Any:
        # descriptive attributes (device_names, driver_version, power_field) are the primary's
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self.primary, attr)

    @classmethod
    def probe(cls) -> Availability:
        """Built from meters that were each probed."""
        return Availability(True, "a combination of meters that were each probed")

    def begin(self) -> None:
        """Open a window on every meter (the primary last, nearest the work)."""
        for meter in self.others:
            meter.begin()
        self.primary.begin()

    def end(self) -> list[EnergyReading]:
        """Close the primary first (nearest the work), then the others; all readings.

        A window the primary cannot vouch for is invalid (the others are closed too); one a
        secondary meter cannot vouch for keeps the primary's figure without that meter's.
        """
        try:
            readings = list(self.primary.end())
        except BaseException:
            for meter in self.others:
                with contextlib.suppress(Exception):
                    meter.end()
            raise
        domains = {r.domain for r in readings}
        for meter in self.others:
            try:
                extra = meter.end()
            except InvalidWindowError:
                continue  # the secondary's readings are left out of this window
            for reading in extra:
                if reading.domain in domains:
                    raise DeviceError(
                        f"meters {self.primary.name} and {meter.name} both give domain "
                        f"{reading.domain!r}; combine meters with distinct domains"
                    )
                readings.append(reading)
        return readings

    def close(self) -> None:
        """Close every meter."""
        for meter in [self.primary, *self.others]:
            with contextlib.suppress(DeviceError):
                meter.close()
