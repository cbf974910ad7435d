from __future__ import annotations

import subprocess
import sys

import pytest


def test_importing_joulebench_leaves_the_slow_scientific_modules_for_later():
    """Every command and worker imports joulebench: scipy.stats, scipy.integrate and sklearn
    (about 2 s together on 2 cores) are imported where they are first used, not at start-up."""
    slow = ("scipy.stats", "scipy.integrate", "sklearn")
    done = subprocess.run(
        [sys.executable, "-c", f"import sys, joulebench; print([m for m in {slow!r} "
         "if m in sys.modules])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "[]"


def test_the_lazily_imported_statistics_still_give_scipys_figures():
    from scipy import stats

    from joulebench.harness.stats import t_halfwidth
    from joulebench.tasks.metrics import accuracy

    assert t_halfwidth(2.0, 5) == pytest.approx(stats.t.ppf(0.975, 4) * 2.0 / 5**0.5, rel=1e-12)
    wilson = stats.binomtest(7, 10).proportion_ci(0.95, method="wilson")
    score = accuracy([1] * 7 + [0] * 3, [1] * 10)
    assert (score.ci_low, score.ci_high) == (wilson.low, wilson.high)
