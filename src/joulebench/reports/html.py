"""A self-contained offline HTML report: the plot (plotly, JavaScript inlined) and a table."""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

import pandas as pd

from joulebench.batteries import Battery
from joulebench.errors import ResultsError
from joulebench.reports.plots import accuracy_vs_charges
from joulebench.reports.tables import figures_table


def render_html(frame: pd.DataFrame, battery: Battery, title: str = "joulebench report") -> str:
    """The whole page as text (opens with no network: plotly's JavaScript is inside)."""
    figure = accuracy_vs_charges(frame, battery)
    plot = figure.to_html(include_plotlyjs=True, full_html=False)
    table = figures_table(frame).to_html(index=False, border=0, classes="figures", escape=True)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table.figures {{ border-collapse: collapse; font-size: 13px; }}
table.figures th, table.figures td {{ padding: 4px 10px; border-bottom: 1px solid #ddd;
  text-align: right; }}
table.figures th:first-child, table.figures td:first-child {{ text-align: left; }}
.caption {{ font-size: 13px; color: #444; max-width: 1000px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
{plot}
<h2>All figures</h2>
{table}
<p class="caption">± is the 95% confidence half-width. Accuracy intervals are Wilson 95%.
Latency is per batch at the batch size shown.</p>
</body></html>
"""


def write_text(path: Path, text: str) -> Path:
    """Write a report file atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(temp).replace(path)
    except OSError as exc:
        raise ResultsError(
            f"cannot write the report {path}: {exc.strerror or exc}; "
            "choose another folder with --out"
        ) from None
    return path


def write_html(
    frame: pd.DataFrame, path: Path, battery: Battery, title: str = "joulebench report"
) -> Path:
    """Write the HTML report atomically."""
    return write_text(path, render_html(frame, battery, title))
