"""Reports: batteries, and (next) plots and tables. Reports read the results store only."""

from __future__ import annotations

from joulebench.reports.batteries import PROFILES, Battery, Charges, battery, inferences_per_charge

__all__ = ["PROFILES", "Battery", "Charges", "battery", "inferences_per_charge"]
