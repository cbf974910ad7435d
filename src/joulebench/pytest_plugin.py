"""pytest plugin: a ``joules`` fixture that puts energy per call next to pytest-benchmark's time.

::

    def test_encode(joules):
        joules(model.encode, batch)          # timed by pytest-benchmark, energy by joulebench

    pytest --benchmark-joules --benchmark-autosave         # measure energy too (it takes time)
    pytest --benchmark-joules --joules-meter rapl           # a given meter (default auto)

Without ``--benchmark-joules`` the fixture only times the call (energy windows take a while, so
measuring them is opt-in). With it, joulebench's protocol (warm-up, calibrated windows, idle
windows, 95% interval) measures the same call, and the whole measurement is stored in
pytest-benchmark's JSON under ``extra_info["joulebench"]``: ``pytest-benchmark compare`` works
on the file for time, and ``joulebench compare`` (and ``report``) read it for energy. A table
of energy per call is printed at the end of the session.

Loaded by pytest through the ``pytest11`` entry point; it imports nothing heavy until used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

EXTRA_KEY = "joulebench"
_RESULTS = pytest.StashKey[list[tuple[str, dict[str, Any]]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's options."""
    group = parser.getgroup("joulebench", "energy per call (joulebench)")
    group.addoption(
        "--benchmark-joules",
        action="store_true",
        default=False,
        help="measure energy per call in tests that use the `joules` fixture",
    )
    group.addoption(
        "--joules-meter",
        default="auto",
        help="meter: auto (default), rapl, nvml, estimate or simulated",
    )
    group.addoption(
        "--joules-windows", type=int, default=5, help="energy windows per test (default 5)"
    )
    group.addoption(
        "--joules-min-window-s",
        type=float,
        default=None,
        help="shortest window in seconds (default: the meter's)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Make room for the session's results."""
    config.stash[_RESULTS] = []


@dataclass
class Joules:
    """Call it like pytest-benchmark's ``benchmark``: ``joules(fn, *args, **kwargs)``."""

    name: str
    config: pytest.Config
    benchmark: Any = None
    record: dict[str, Any] = field(default_factory=dict)

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Time ``fn`` with pytest-benchmark (if present), then measure its energy per call."""
        result = self.benchmark(fn, *args, **kwargs) if self.benchmark else fn(*args, **kwargs)
        if not self.config.getoption("benchmark_joules"):
            self.record = {"measured": False, "reason": "run pytest with --benchmark-joules"}
            self._store()
            return result
        from joulebench.harness.runner import measure
        from joulebench.results.schema import measurement_to_dict
        from joulebench.results.store import build_document

        def workload(n: int) -> None:
            for _ in range(n):
                fn(*args, **kwargs)

        measured = measure(
            workload,
            self.config.getoption("joules_meter"),
            label=self.name,
            windows=self.config.getoption("joules_windows"),
            min_window_s=self.config.getoption("joules_min_window_s"),
            warmup_s=1.0,
        )
        document = build_document(measured)
        energy = measured.energy_per_item_j  # one call of fn is one item
        self.record = {
            "schema_version": document["schema_version"],
            "measured": measured.measured,
            "energy_per_call_j": energy.mean,
            "energy_per_call_j_ci95": energy.ci95,
            "method": measured.method,
            "meter": measured.meter,
            "scope": measured.scope,
            "machine_id": document["machine_id"],
            "machine": document["machine"],
            "measurement": measurement_to_dict(measured),
            "idle_windows": document["idle_windows"],
        }
        self._store()
        return result

    def _store(self) -> None:
        if self.benchmark is not None:
            self.benchmark.extra_info[EXTRA_KEY] = self.record
        self.config.stash[_RESULTS].append((self.name, self.record))


@pytest.fixture
def joules(request: pytest.FixtureRequest) -> Joules:
    """Energy per call of a function, next to pytest-benchmark's timing of it."""
    try:
        benchmark = request.getfixturevalue("benchmark")  # pytest-benchmark, where installed
    except pytest.FixtureLookupError:
        benchmark = None
    return Joules(request.node.nodeid, request.config, benchmark)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """A table of energy per call for the tests that measured it."""
    from joulebench.devices.base import MEASURED_METHODS

    measured = [(n, r) for n, r in config.stash.get(_RESULTS, []) if "energy_per_call_j" in r]
    if not measured:
        return
    terminalreporter.section("joulebench: energy per call (95% interval)")
    for name, record in measured:
        label = "" if record["method"] in MEASURED_METHODS else ", NOT measured"
        terminalreporter.write_line(
            f"{name}: {record['energy_per_call_j'] * 1e3:.4g} ± "
            f"{record['energy_per_call_j_ci95'] * 1e3:.2g} mJ "
            f"({record['method']}{label}, meter {record['meter']}, scope {record['scope']})"
        )
