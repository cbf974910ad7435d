"""The HTML report opened in a real headless browser: it renders with no network and no errors.

Uses Debian's chromium (``.ci/run`` installs it); skips, saying why, where no browser is found.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from joulebench.cli.main import main
from joulebench.results import load

REFERENCE = Path(__file__).parent.parent / "data" / "variants-v1.json"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
BROWSER = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000",
)  # fmt: skip

pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no headless browser found (install Debian's chromium)"
)


def rendered_dom(page: Path, profile: Path) -> tuple[str, str]:
    """The page's DOM after its scripts ran, and the browser's log (console messages)."""
    done = subprocess.run(
        [BROWSER, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def test_the_html_report_renders_one_marker_per_variant_with_no_console_errors(tmp_path):
    assert main(["report", str(REFERENCE), "--format", "html", "--out", str(tmp_path)]) == 0
    (page,) = tmp_path.glob("*.html")
    dom, log = rendered_dom(page, tmp_path / "profile")
    console = [line for line in log.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if re.search(r"error|uncaught", line, re.I)], console
    # plotly drew the main plot: an SVG with one trace per variant, each with one marker
    main_plot = dom.split('id="figure-0"', 1)[1].split('id="figure-1"', 1)[0]
    assert "main-svg" in main_plot
    variants = len(load(REFERENCE))
    chunks = main_plot.split('class="trace scatter tracevariant-')[1:]
    assert len(chunks) == variants
    for chunk in chunks:  # up to the next trace: this variant's marker and error bars
        assert chunk.split('class="trace ', 1)[0].count('class="point"') == 1
    assert "Pareto frontier" in main_plot  # the legend names the frontier


def test_the_history_page_renders_a_panel_per_metric_with_no_console_errors(tmp_path):
    import numpy as np

    from joulebench.testing.history import history_documents, write_history

    docs = history_documents(np.random.default_rng(10), commits=16, energy_steps={8: 0.10})
    results = write_history(tmp_path / "results", docs)
    assert main(["history", str(results), "--out", str(tmp_path / "reports")]) == 0
    dom, log = rendered_dom(tmp_path / "reports" / "history.html", tmp_path / "profile")
    console = [line for line in log.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if re.search(r"error|uncaught", line, re.I)], console
    assert "main-svg" in dom
    # energy, time and idle power panels (the simulated runs carry no accuracy interval)
    panels = re.findall(r'class="subplot (x\d*y\d*)"', dom)
    assert sorted(panels) == ["x2y2", "x3y3", "xy"]
    for title in ("energy per inference", "time per inference", "idle power"):
        assert title in dom
    assert "+10" in dom  # the step's label on its dashed line
