from __future__ import annotations

import os

import pytest

from joulebench.harness.telemetry import HostSnapshot
from joulebench.testing import FakeClock

os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytest_plugins = ("pytester",)  # to run the `joules` plugin in an inner pytest session


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def quiet_host() -> HostSnapshot:
    """A host with nothing to report (no cpufreq, no thermal): never drifts."""
    return HostSnapshot(None, None, None, None)


@pytest.fixture
def host():
    return quiet_host
