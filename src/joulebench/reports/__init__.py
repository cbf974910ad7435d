"""Reports: plots and tables (next), read from the results store only.

Battery arithmetic lives in ``joulebench.batteries`` (the store's ``load()`` needs it too, and
the store must not import reports); it is re-exported here.
"""

from __future__ import annotations

from joulebench.batteries import PROFILES, Battery, Charges, battery, inferences_per_charge

__all__ = ["PROFILES", "Battery", "Charges", "battery", "inferences_per_charge"]
