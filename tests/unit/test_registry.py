from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import joulebench
from joulebench.devices import (
    Availability,
    EstimateMeter,
    NvmlMeter,
    SimulatedMeter,
    choose_meter,
    probe_all,
    registry,
)
from joulebench.errors import MeterUnavailableError, UserError
from joulebench.testing import FakeNvml

NO = Availability(False, "nothing here", "do something")
YES = Availability(True, "found one")


def test_auto_falls_back_to_the_estimate_and_says_why():
    meter, reason = choose_meter("auto", gpu=False, probes={"rapl": lambda: NO})
    assert isinstance(meter, EstimateMeter)
    assert "ESTIMATED" in reason and "rapl: nothing here" in reason


def test_auto_prefers_nvml_for_a_cuda_workload(monkeypatch):
    monkeypatch.setitem(registry.METERS, "nvml", lambda: NvmlMeter(nvml=FakeNvml()))
    meter, reason = choose_meter("auto", gpu=True, probes={"nvml": lambda: YES, "rapl": lambda: NO})
    assert isinstance(meter, NvmlMeter)
    assert reason.startswith("auto: nvml")


def test_auto_skips_nvml_for_a_cpu_workload():
    meter, reason = choose_meter(
        "auto", gpu=False, probes={"nvml": lambda: YES, "rapl": lambda: NO}
    )
    assert isinstance(meter, EstimateMeter)
    assert "nvml" not in reason


def test_a_meter_asked_for_by_name_never_falls_back_silently(tmp_path):
    with pytest.raises(MeterUnavailableError, match="no powercap"):
        choose_meter("rapl", root=tmp_path / "none")


def test_meter_objects_are_taken_as_they_are_and_junk_is_refused():
    sim = SimulatedMeter(3.0)
    assert choose_meter(sim)[0] is sim
    with pytest.raises(UserError, match="neither a meter name"):
        choose_meter(42)
    with pytest.raises(UserError, match="does not take"):
        registry.make_meter("simulated", wattage=3)


def test_probe_all_lists_every_meter_with_reason_and_fix():
    rows = probe_all(probes={"rapl": lambda: NO, "nvml": lambda: NO})
    assert [r.name for r in rows] == ["nvml", "rapl", "estimate", "simulated"]
    rapl = rows[1]
    assert (rapl.available, rapl.reason, rapl.fix) == (False, "nothing here", "do something")
    assert rows[2].available and rows[2].method == "estimated"


ALLOWED_FOR_DEVICES = ("joulebench.devices", "joulebench.errors", "joulebench.clock")


def test_devices_import_nothing_above_them():
    root = Path(joulebench.__file__).parent / "devices"
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("joulebench")
            ):
                assert node.module.startswith(ALLOWED_FOR_DEVICES), (
                    f"{path.name} imports {node.module}"
                )
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("joulebench") or alias.name.startswith(
                        ALLOWED_FOR_DEVICES
                    ), f"{path.name} imports {alias.name}"


def test_importing_joulebench_touches_no_hardware_library():
    code = (
        "import sys, joulebench, joulebench.devices, joulebench.results, joulebench.cli.main;"
        "print(sorted(m for m in ('pynvml', 'torch', 'plotly') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def imported_modules(folder: str) -> set[str]:
    """Every joulebench module imported anywhere (top level or inside functions) in ``folder``."""
    found = set()
    for path in (Path(joulebench.__file__).parent / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("joulebench"):
                found.add(node.module)
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("joulebench")}
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("tasks", ("joulebench.variants", "joulebench.harness", "joulebench.results")),
        ("variants", ("joulebench.harness", "joulebench.results", "joulebench.reports")),
    ],
)
def test_tasks_and_variants_reach_no_layer_above_them(folder, forbidden):
    above = sorted(m for m in imported_modules(folder) if m.startswith(forbidden))
    assert above == [], f"{folder}/ imports {above}"
