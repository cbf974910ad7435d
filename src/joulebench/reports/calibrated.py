"""Whole-device (calibrated) columns of a report's frame (``report --calibration NAME``).

Each row measured by a hardware counter on a machine that has the named calibration, with the
calibration's meter and scope, gets ``whole_energy_j`` (± ``whole_energy_j_ci95``) and
``whole_inferences_per_charge`` (with its interval) from its run's windows
(:func:`joulebench.calibration.whole_device`). Every other row keeps them empty, and the
reason is one warning line: no calibration for its machine, another meter or scope, an
estimate. A machine whose settings changed since the fit (kernel, governor, ...) is
calibrated with a warning naming the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from joulebench.batteries import Battery, inferences_per_charge
from joulebench.calibration import CALIBRATED_METHODS, Calibration, machine_changes, whole_device

COLUMNS = (
    "whole_energy_j",
    "whole_energy_j_ci95",
    "whole_inferences_per_charge",
    "whole_inferences_per_charge_low",
    "whole_inferences_per_charge_high",
    "calibration",
    "calibration_model",
)


def add_calibrated(
    frame: pd.DataFrame,
    runs: Sequence[tuple[Path, dict[str, Any]]],
    profiles: dict[str, Calibration],
    battery: Battery,
) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with the whole-device columns, and a warning per thing not calibrated."""
    by_run = {document["run_id"]: document for _, document in runs}
    frame = frame.copy()
    for column in COLUMNS:
        frame[column] = None
    warnings: list[str] = []
    for index, row in frame.iterrows():
        machine = row["machine"]
        profile = profiles.get(machine)
        if profile is None:
            fitted = ", ".join(sorted(profiles))
            warnings.append(
                f"no calibration {next(iter(profiles.values())).name!r} for machine {machine} "
                f"(there is one for {fitted}): its rows have no whole-device figures; fit one "
                "on that machine with `joulebench calibrate`"
            )
            continue
        if row["energy_method"] not in CALIBRATED_METHODS:
            warnings.append(
                f"{row['variant']} on {machine}: energy was {row['energy_method']}, not read "
                "from a hardware counter: a calibration does not apply to it"
            )
            continue
        if (row["meter"], row["scope"]) != (profile.meter, profile.scope):
            warnings.append(
                f"{row['variant']} on {machine} was measured with {row['meter']} "
                f"({row['scope']}), calibration {profile.name!r} maps {profile.meter} "
                f"({profile.scope}): not applied"
            )
            continue
        document = by_run[row["run_id"]]
        measurement = next(m for m in document["measurements"] if m["label"] == row["label"])
        whole = whole_device(measurement, profile)
        charges = inferences_per_charge(battery, whole.energy_j, whole.ci95_j)
        frame.at[index, "whole_energy_j"] = whole.energy_j
        frame.at[index, "whole_energy_j_ci95"] = whole.ci95_j
        frame.at[index, "whole_inferences_per_charge"] = charges.value
        frame.at[index, "whole_inferences_per_charge_low"] = charges.low
        frame.at[index, "whole_inferences_per_charge_high"] = charges.high
        frame.at[index, "calibration"] = profile.name
        frame.at[index, "calibration_model"] = profile.describe()
        changes = machine_changes(profile, document.get("machine") or {})
        if changes:
            warnings.append(
                f"machine {machine} changed since calibration {profile.name!r} was fitted "
                f"({'; '.join(changes)}): the rest of the machine may draw differently now; "
                "fit it again if so"
            )
    for column in COLUMNS[:-2]:
        frame[column] = pd.to_numeric(frame[column])
    return frame, list(dict.fromkeys(warnings))


def calibration_lines(frame: pd.DataFrame) -> list[str]:
    """What the whole-device figures are, for captions and notes (none when not calibrated)."""
    if "calibration_model" not in frame or frame["calibration_model"].isna().all():
        return []
    used = frame[frame["calibration_model"].notna()]
    models = dict(zip(used["machine"], used["calibration_model"], strict=True))
    return [
        f"Whole device (calibrated) on {machine}: {model}; the calibrated intervals include "
        "the fit's uncertainty."
        for machine, model in sorted(models.items())
    ]
