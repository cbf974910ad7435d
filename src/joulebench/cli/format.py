"""Text for people: tables of meters and results. These functions return text; the CLI prints."""

from __future__ import annotations

import io
import shutil
import textwrap
from collections.abc import Iterable, Sequence

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from joulebench.devices.base import METHOD_LABELS
from joulebench.devices.registry import MeterStatus
from joulebench.harness.result import MeasureResult
from joulebench.harness.stats import Summary
from joulebench.reports.numbers import plus_minus, significant

_ENERGY_UNITS = ((1.0, "J"), (1e-3, "mJ"), (1e-6, "µJ"), (1e-9, "nJ"))
_TIME_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def plain(value: object) -> Text:
    """``value`` as text rich prints as it is: brackets stay brackets, never markup
    (``pip install 'joulebench[nvidia]'`` must not lose ``[nvidia]``)."""
    return Text(str(value))


def plain_table(title: str, columns: Iterable[str], **options: object) -> Table:
    """A rich table whose title and headers are plain text; add rows with :func:`add_row`."""
    table = Table(title=plain(title), **options)  # type: ignore[arg-type]
    for column in columns:
        table.add_column(plain(column), overflow="fold")
    return table


def add_row(table: Table, cells: Iterable[object]) -> None:
    """Add a row of plain-text cells (no markup)."""
    table.add_row(*(plain(cell) for cell in cells))


def render(table: Table, width: int = 140) -> str:
    """A rich table as plain text."""
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, force_terminal=False).print(table)
    return buffer.getvalue().rstrip("\n")


def _scale(value: float, units: Sequence[tuple[float, str]]) -> tuple[float, str]:
    for factor, unit in units:
        if abs(value) >= factor:
            return factor, unit
    return units[-1]


def format_quantity(summary: Summary | None, units: Sequence[tuple[float, str]]) -> str:
    """``12.3 ± 0.4 mJ``: mean ± 95% half-width in a unit chosen for the mean."""
    if summary is None:
        return "—"
    factor, unit = _scale(summary.mean, units)
    return f"{plus_minus(summary.mean / factor, summary.ci95 / factor, 4)} {unit}"


def format_energy(summary: Summary | None) -> str:
    """An energy summary, scaled to J, mJ, µJ or nJ."""
    return format_quantity(summary, _ENERGY_UNITS)


def format_time(summary: Summary | None) -> str:
    """A time summary, scaled to s, ms, µs or ns."""
    return format_quantity(summary, _TIME_UNITS)


def terminal_width(default: int = 100) -> int:
    """The terminal's width in characters (``COLUMNS``, else the terminal, else ``default``)."""
    return shutil.get_terminal_size((default, 24)).columns


def _longest_word(values: Iterable[object], cap: int = 24) -> int:
    """The longest word in ``values``: a column narrower than it breaks a word in two."""
    return min(cap, max((len(w) for v in values for w in str(v).split()), default=1))


def _min_widths(frame: pd.DataFrame) -> dict[str, int]:
    return {str(c): _longest_word([c, *frame[c].tolist()]) for c in frame.columns}


def fit_columns(
    frame: pd.DataFrame, width: int, optional: Sequence[str] = ()
) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with ``optional`` columns dropped, last first, until every column fits
    ``width`` without breaking a word; returns the frame and the columns left out."""
    widths = _min_widths(frame)
    kept = [str(c) for c in frame.columns]
    dropped: list[str] = []
    for column in reversed([c for c in optional if c in kept]):
        if sum(widths[c] + 3 for c in kept) + 1 <= width:
            break
        kept.remove(column)
        dropped.append(column)
    return frame[kept], dropped[::-1]


def format_frame(
    frame: pd.DataFrame,
    title: str,
    *,
    width: int | None = None,
    optional: Sequence[str] = (),
) -> str:
    """Any DataFrame of strings as a text table that fits ``width`` (the terminal's): no word
    is broken across lines, and ``optional`` columns are left out (and named under the
    table) when the rest would not fit otherwise."""
    terminal = width or terminal_width()
    shown, dropped = fit_columns(frame, terminal, optional)
    widths = _column_widths(shown, terminal)
    table = Table(title=plain(title))
    for column in shown.columns:
        table.add_column(plain(column), overflow="fold", width=widths[str(column)])
    for _, row in shown.iterrows():
        add_row(table, row)
    # never break a word: wider than the terminal rather than "mJ/inferen ce"
    text = render(table, width=max(terminal, sum(w + 3 for w in widths.values()) + 1))
    if dropped:
        note = (
            f"(left out to fit {terminal} columns: {', '.join(dropped)}; --wide shows every "
            "column, and the report has them all)"
        )
        text += "\n" + textwrap.fill(note, terminal)
    return text


def _column_widths(frame: pd.DataFrame, width: int) -> dict[str, int]:
    """Each column's width: its longest word at least, and of the room left, a share by how
    much more its longest cell needs (so no word breaks, and long cells wrap least)."""
    least = _min_widths(frame)
    natural = {str(c): max(len(str(v)) for v in [c, *frame[c].tolist()]) for c in frame.columns}
    spare = width - (sum(w + 3 for w in least.values()) + 1)
    wants = {c: max(0, natural[c] - least[c]) for c in least}
    total = sum(wants.values())
    if spare <= 0 or total == 0:
        return least
    return {c: least[c] + min(wants[c], spare * wants[c] // total) for c in least}


def format_meters(rows: Iterable[MeterStatus]) -> str:
    """The ``joulebench meters`` table: every meter, available or not, why, and the fix."""
    columns = ("meter", "available", "method", "scope", "min window", "why / how to fix")
    table = plain_table("Energy meters on this machine", columns, show_lines=True)
    for row in rows:
        why = row.reason if row.available else f"{row.reason}. FIX: {row.fix}"
        add_row(
            table,
            (
                row.name,
                "yes" if row.available else "no",
                row.method,
                row.scope,
                f"{row.default_min_window_s:g} s",
                why,
            ),
        )
    return render(table)


def _systematic(bound_j: float | None, mean_j: float) -> str:
    """``±0.6 mJ (5%)``, or ``not stated``."""
    if bound_j is None:
        return "not stated"
    factor, unit = _scale(mean_j, _ENERGY_UNITS)
    share = f" ({bound_j / mean_j:.0%})" if mean_j else ""
    return f"±{significant(bound_j / factor, 2)} {unit}{share}"


def format_results(results: Sequence[MeasureResult]) -> str:
    """A table of results, then what the figures are and how they were made."""
    method = results[0].method if results else ""
    title = f"Energy per item — {METHOD_LABELS.get(method, method)}"
    columns = (
        "workload",
        "energy/item (gross) ± 95% CI",
        "meter accuracy",
        "net of idle",
        "time/item",
        "power",
        "windows × calls",
        "method",
        "flags",
    )
    table = plain_table(title, columns)
    for r in results:
        add_row(table, (
            r.label,
            format_energy(r.energy_per_item_j),
            _systematic(r.systematic_energy_per_item_j, r.energy_per_item_j.mean),
            format_energy(r.net_energy_per_item_j) if r.net_energy_per_item_j else "n/a",
            format_time(r.duration_per_item_s),
            f"{significant(r.power_w.mean)} W",
            f"{r.energy_per_item_j.n} × {r.calls_per_window}",
            r.method,
            ", ".join(f.code for f in r.flags) or "—",
        ))  # fmt: skip
    lines = [render(table)]
    if results:
        first = results[0]
        idle = first.idle_power_w
        interval = (
            "Stein's two-stage interval: the number of windows was planned from a pilot for "
            f"the target ±{first.settings.target_ci:.1%}"
            if first.energy_per_item_j.interval == "stein-two-stage"
            else "Student t over the windows"
        )
        lines.append(
            f"± is the statistical 95% confidence half-width ({interval}); 'meter accuracy' "
            "is the meter's own systematic bound, which more windows do not shrink. Gross is "
            "what drains a battery; net subtracts each round's idle power"
            + (f" ({idle.mean:.3g} ± {idle.ci95:.2g} W, measured the same way)." if idle else ".")
        )
        accuracy = first.accuracy
        lines.append(
            f"Meter: {first.meter} ({first.scope}) — {first.method_label}. {first.meter_reason}"
            + (f". Accuracy: {accuracy.describe()}" if accuracy is not None else "")
        )
        source = first.meter_details.get("source")
        if source:
            lines.append(f"Estimate: {source}")
        for r in results:
            for flag in r.flags:
                lines.append(f"[{r.label}] {flag.code}: {flag.message}")
    return "\n".join(lines)
