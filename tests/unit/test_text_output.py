"""Text for people keeps brackets: nothing printed through rich is read as markup."""

from __future__ import annotations

import pandas as pd

from joulebench.cli.format import format_frame, format_meters
from joulebench.cli.progress import RunProgress
from joulebench.devices.registry import MeterStatus
from joulebench.harness.runner import Event


def test_a_fix_with_brackets_is_printed_whole_in_the_meters_table():
    fix = "install it with `pip install 'joulebench[nvidia]'` (nvidia-ml-py)"
    row = MeterStatus("nvml", False, "counter", "board", 10.0, "no pynvml", fix)
    assert "[nvidia]" in format_meters([row])


def test_cells_titles_and_headers_with_brackets_survive():
    frame = pd.DataFrame({"[b]col[/b]": ["[red]x[/red]", "int8[v2]"]})
    text = format_frame(frame, "title [bold]t[/bold]")
    for piece in ("[b]col[/b]", "[red]x[/red]", "int8[v2]", "[bold]t[/bold]"):
        assert piece in text


def test_progress_lines_keep_a_variant_name_with_brackets(capsys):
    progress = RunProgress(1, 2)
    with progress:
        progress(Event("load", "int8[v2]", "loading"))
        progress(Event("failed", "int8[v2]", "cannot load [model]"))
    description = progress.progress.tasks[0].description
    assert "int8[v2]" in progress.progress.console.render_str(description).plain
    assert "cannot load [model]" in capsys.readouterr().err


def test_a_log_gets_plain_timed_lines_not_progress_frames(capsys):
    from joulebench.cli.pipeline import progress_for
    from joulebench.cli.progress import PlainLog

    with progress_for(False, 2, 3) as events:  # stderr is captured: not a terminal
        assert isinstance(events.forward, PlainLog)
        events(Event("train", "", "fine-tuning the base model"))
        events(Event("load", "int8", "loading and scoring (torch)"))
        events(Event("ready", "int8", "scored in 1.2 s load"))
        for _ in range(6):  # two rounds of (2 variants + idle)
            events(Event("window", "int8", "1 J in 1 s"))
    lines = capsys.readouterr().err.splitlines()
    assert all(line.startswith("[") and " s] " in line for line in lines)
    text = "\n".join(lines)
    assert "train: fine-tuning the base model" in text and "ready: int8: scored" in text
    assert "energy windows: 3 done (about 9 planned)" in text
    assert "energy windows: 6 done" in text and text.count("energy windows") == 2
    assert "\r" not in text and "\x1b[" not in text and "finished" in lines[-1]


def test_the_results_table_fits_100_columns_without_breaking_a_word(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    import re
    import tempfile
    from pathlib import Path

    from joulebench.cli.report import write_report
    from joulebench.reports.tables import DETAIL_COLUMNS

    reference = Path(__file__).parent.parent / "data" / "variants-v1.json"
    with tempfile.TemporaryDirectory() as folder:
        _, text = write_report(reference, Path(folder), "phone", "joulebench report")
        _, wide = write_report(reference, Path(folder), "phone", "t", wide=True)
    table = text.split("\nflag:")[0]
    lines = table.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "left out to fit 100 columns" in table and "--wide" in table
    cells = [c.strip() for line in lines for c in re.split(r"[│┃]", line) if c.strip()]
    for word in ("mJ/inference", "estimated", "frontier"):  # whole, never "mJ/inferen ce"
        assert any(word in c for c in cells) or word not in wide
    assert not re.search(r"\d\.\d+e[+-]\d", table)  # no scientific notation
    assert all(column in wide for column in DETAIL_COLUMNS[:2])
