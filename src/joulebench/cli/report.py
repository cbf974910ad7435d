"""``joulebench report RESULTS``: an offline HTML page with the battery plot and every figure."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from joulebench.batteries import Battery, battery
from joulebench.calibration import Calibration, calibrations_root, load_profiles
from joulebench.cli.format import format_frame
from joulebench.errors import UserError
from joulebench.reports.axes import axis
from joulebench.reports.calibrated import add_calibrated, calibration_lines
from joulebench.reports.formats import latex_table, markdown_table
from joulebench.reports.html import write_html, write_text
from joulebench.reports.methods import write_methods
from joulebench.reports.plots import caption_lines
from joulebench.reports.static import EXPORTER, save_scatter, save_views
from joulebench.reports.tables import DETAIL_COLUMNS, figures_table, flag_lines, flag_summary
from joulebench.results.frame import documents, frame_of


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "report", help="write an offline HTML report (accuracy vs inferences per charge)"
    )
    parser.add_argument("results", help="a results file or folder (e.g. results/)")
    parser.add_argument(
        "--battery",
        default="phone",
        help="phone, laptop, powerbank, or custom:5000mAh@3.85V (default phone)",
    )
    parser.add_argument("--out", default="reports", help="folder for the report (default reports/)")
    parser.add_argument("--title", default="joulebench report", help="the page's title")
    parser.add_argument(
        "--format",
        default="html",
        type=parse_formats,
        help="comma-separated: html (default), png, svg, md, tex, csv; methods writes a methods "
        "section from the runs (Markdown, LaTeX and its BibTeX file)",
    )
    parser.add_argument(
        "--x",
        default="inferences_per_charge",
        help="the main plot's x axis (default inferences_per_charge; also energy_j, "
        "net_energy_j, latency_p50_s, peak_rss_bytes, model_size_bytes, params, ...)",
    )
    parser.add_argument("--y", default="accuracy", help="the main plot's y axis (default accuracy)")
    parser.add_argument(
        "--wide", action="store_true", help="print every column, however wide the terminal"
    )
    parser.add_argument(
        "--calibration",
        default=None,
        metavar="NAME",
        help="add whole-device (calibrated) energy and inferences per charge from the "
        "calibration NAME of each run's machine (`joulebench calibrate`); the main plot shows "
        "them",
    )
    parser.add_argument(
        "--calibrations",
        default=None,
        help="folder of calibration profiles (default: the user's data folder)",
    )
    parser.set_defaults(run=run)


FORMATS = ("html", "png", "svg", "md", "tex", "csv", "methods")
METHODS_FILES = ("methods.md", "methods.tex", "methods.bib")
"""What ``--format methods`` writes beside ``<stem>``: the section in Markdown and LaTeX, and
the BibTeX file the LaTeX cites."""


def _suffixes(kind: str) -> tuple[str, ...]:
    return METHODS_FILES if kind == "methods" else (kind,)


def parse_formats(text: str) -> tuple[str, ...]:
    """``html,md`` -> ("html", "md"), refusing unknown formats."""
    formats = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(
            f"unknown report format {unknown[0] if unknown else text!r}; "
            f"choose from {', '.join(FORMATS)}"
        )
    return formats


DEFAULT_AXES = ("inferences_per_charge", "accuracy")


def report_stem(
    out: Path, frame: pd.DataFrame, battery_name: str, x: str, y: str, formats: tuple[str, ...]
) -> str:
    """The reports' file name (no suffix): the run (or ``report`` for several), the battery,
    and the axes when not the default; ``-2``, ``-3``, ... where such a report already exists,
    so an earlier report is never replaced."""
    run = frame["run_id"].iloc[0] if frame["run_id"].nunique() == 1 else "report"
    parts = [str(run), battery_name]
    if (x, y) != DEFAULT_AXES:
        parts.append(f"{y}-vs-{x}")
    base = re.sub(r"[^A-Za-z0-9._+-]+", "-", "_".join(parts)).strip("-")
    for attempt in range(1, 1000):
        stem = base if attempt == 1 else f"{base}-{attempt}"
        if not any(
            (out / f"{stem}.{suffix}").exists() for kind in formats for suffix in _suffixes(kind)
        ):
            return stem
    raise UserError(f"no free report name in {out}; clear it or choose another with --out")


def write_report(
    results: Path | Sequence[Path],
    out: Path,
    battery_spec: str,
    title: str,
    formats: tuple[str, ...] = ("html",),
    x: str = "inferences_per_charge",
    y: str = "accuracy",
    *,
    wide: bool = False,
    calibration: str | None = None,
    calibrations: Path | None = None,
) -> tuple[list[Path], str]:
    """Load, check there are model runs, write each format; return the first file's path and
    a text table for the terminal."""
    axis(x), axis(y)  # an unknown figure is one line before anything is read
    profile = battery(battery_spec)
    profiles = load_profiles(calibrations_root(calibrations), calibration) if calibration else {}
    sources = [results] if isinstance(results, Path) else list(results)
    # read once: the frame, the calibration and methods use them
    runs = [run for source in sources for run in documents(source)]
    loaded = frame_of(runs, profile)
    frame = loaded[loaded["score"].notna()]
    skipped = loaded[loaded["score"].isna()]
    if frame.empty:
        raise UserError(
            f"{', '.join(map(str, sources))} holds no model runs with a score (only plain "
            "`measure` runs); "
            "run `joulebench demo` or `joulebench run` first"
        )
    stem = report_stem(out, frame, profile.name, x, y, formats)
    warnings: list[str] = []
    shown = set(frame["run_id"])
    runs = [(path, doc) for path, doc in runs if doc.get("run_id") in shown]
    if calibration:
        frame, warnings = add_calibrated(frame, runs, profiles, profile)
        if x == DEFAULT_AXES[0] and frame["whole_energy_j"].notna().any():
            x = "whole_inferences_per_charge"  # the honest count, where there is one
    table = figures_table(frame, x, y)
    notes = " ".join(caption_lines(frame, profile, plot=False))
    flags = flag_lines(frame)
    paths = []
    for kind in formats:
        path = out / f"{stem}.{kind}"
        if kind == "html":
            write_html(frame, path, profile, title, x, y)
        elif kind in ("png", "svg"):
            save_scatter(frame, profile, path, x, y)
            paths.append(path)
            paths.extend(save_views(frame, profile, out / stem, kind, (x, y)))
            continue
        elif kind == "md":
            listed = "".join(f"- {line}\n" for line in flags)
            flagged = f"\n**Flags**\n\n{listed}" if flags else ""
            write_text(path, f"# {title}\n\n{markdown_table(table)}\n{notes}\n{flagged}")
        elif kind == "methods":
            used = set(frame.loc[frame["whole_energy_j"].notna(), "machine"]) if calibration else ()
            calibrated = {machine: profiles[machine] for machine in used}
            paths.extend(_write_methods(runs, out, stem, profile, calibrated))
            continue
        elif kind == "tex":
            flagged = (" Flags: " + "; ".join(flags) + ".") if flags else ""
            write_text(path, latex_table(table, f"{title}. {notes}{flagged}"))
        else:
            write_text(path, frame.to_csv(index=False))
        paths.append(path)
    # flags go last: every one is listed under the table anyway
    optional = () if wide else ("flags", *DETAIL_COLUMNS)
    text = format_frame(table, f"{title} — {profile.describe()}", optional=optional)
    text += "".join(f"\nflag: {line}" for line in flags)
    summary = flag_summary(frame)
    if summary:
        text += f"\n{summary}"
    text += "".join(f"\n{line}" for line in calibration_lines(frame))
    text += "".join(f"\nnote: {line}" for line in warnings)
    if not skipped.empty:
        labels = ", ".join(dict.fromkeys(skipped["label"]))
        text += (
            f"\nnote: left out {len(skipped)} measurement(s) without a model score (plain "
            f"`joulebench measure` runs: {labels}); they have no accuracy to plot"
        )
    return paths, text


def _write_methods(
    runs: list[tuple[Path, dict[str, Any]]],
    out: Path,
    stem: str,
    profile: Battery,
    calibrations: dict[str, Calibration],
) -> list[Path]:
    """The methods section of the runs the report shows, as .methods.md/.tex and a .bib."""
    text = write_methods(runs, profile, f"{stem}.methods", calibrations=calibrations)
    paths = [out / f"{stem}.{suffix}" for suffix in METHODS_FILES]
    for path, content in zip(paths, (text.markdown, text.latex, text.bibtex), strict=True):
        write_text(path, content)
    return paths


def run(args: argparse.Namespace) -> int:
    """Write the report and print its table and path."""
    paths, table = write_report(
        Path(args.results),
        Path(args.out),
        args.battery,
        args.title,
        args.format,
        args.x,
        args.y,
        wide=args.wide,
        calibration=args.calibration,
        calibrations=Path(args.calibrations) if args.calibrations else None,
    )
    print(table)
    for path in paths:
        kind = path.suffix.lstrip(".")
        how = f", drawn with {EXPORTER}" if kind in ("png", "svg") else ""
        print(f"Report ({kind}{how}): {path}")
    return 0
