"""A self-contained offline HTML report: the plot (plotly, JavaScript inlined) and a table."""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from joulebench.batteries import Battery
from joulebench.errors import ResultsError
from joulebench.files import give_user_permissions
from joulebench.reports.plots import BAR_VIEWS, bars, caption_lines, scatter, views_with_data
from joulebench.reports.tables import figures_table, flag_lines


def figures(
    frame: pd.DataFrame, battery: Battery, x: str = "inferences_per_charge", y: str = "accuracy"
) -> list[tuple[str, Any]]:
    """The page's figures, main first: (heading, plotly figure); views with no data left out."""
    out: list[tuple[str, Any]] = [("", scatter(frame, battery, x, y))]
    for name, spec in views_with_data(frame, (x, y)):
        if isinstance(spec, tuple):
            out.append((name.replace("-", " "), scatter(frame, battery, *spec)))
        else:
            out.append((BAR_VIEWS[spec][0], bars(frame, spec)))
    return out


def render_html(
    frame: pd.DataFrame,
    battery: Battery,
    title: str = "joulebench report",
    x: str = "inferences_per_charge",
    y: str = "accuracy",
) -> str:
    """The whole page as text (opens with no network: plotly's JavaScript is inside, once)."""
    parts = []
    for index, (heading, figure) in enumerate(figures(frame, battery, x, y)):
        if heading:
            parts.append(f"<h2>{html.escape(heading[:1].upper() + heading[1:])}</h2>")
        parts.append(
            figure.to_html(include_plotlyjs=index == 0, full_html=False, div_id=f"figure-{index}")
        )
    plots = "\n".join(parts)
    table = figures_table(frame, x, y).to_html(
        index=False, border=0, classes="figures", escape=True
    )
    notes = html.escape(" ".join(caption_lines(frame, battery, plot=False)))
    flags = flag_lines(frame)
    flagged = (
        '<h3>Flags</h3>\n<ul class="flags">'
        + "".join(f"<li>{html.escape(line)}</li>" for line in flags)
        + "</ul>"
        if flags
        else ""
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table.figures {{ border-collapse: collapse; font-size: 13px; }}
table.figures th, table.figures td {{ padding: 4px 10px; border-bottom: 1px solid #ddd;
  text-align: right; }}
table.figures th:first-child, table.figures td:first-child {{ text-align: left; }}
.caption {{ font-size: 13px; color: #444; max-width: 1000px; }}
.scroll {{ overflow-x: auto; max-width: 100%; }}
ul.flags {{ font-size: 13px; color: #8a4b00; max-width: 1000px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
{plots}
<h2>All figures</h2>
<div class="scroll">{table}</div>
{flagged}
<p class="caption">{notes} Latency is per batch at the batch size shown. Pareto: on the
frontier of the main plot's means, or possibly optimal (off it, but no variant that beats it
on the means is significantly better: accuracy by McNemar's exact test on the same test
examples, other figures by 95% intervals that do not overlap).
Hatched energy bars: not measured.</p>
</body></html>
"""


def write_text(path: Path, text: str) -> Path:
    """Write a report file atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        give_user_permissions(temp)
        Path(temp).replace(path)
    except OSError as exc:
        raise ResultsError(
            f"cannot write the report {path}: {exc.strerror or exc}; "
            "choose another folder with --out"
        ) from None
    return path


def write_html(
    frame: pd.DataFrame,
    path: Path,
    battery: Battery,
    title: str = "joulebench report",
    x: str = "inferences_per_charge",
    y: str = "accuracy",
) -> Path:
    """Write the HTML report atomically."""
    return write_text(path, render_html(frame, battery, title, x, y))
