"""Every report format written from a small committed results file (no model needed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from joulebench.cli.main import main
from joulebench.results import load

REFERENCE = Path(__file__).parent.parent / "data" / "variants-v1.json"


def test_report_writes_html_markdown_latex_and_csv(tmp_path, capsys):
    code = main(
        [
            "report",
            str(REFERENCE),
            "--format",
            "html,md,tex,csv",
            "--out",
            str(tmp_path),
            "--title",
            "Tiny BERT",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    files = {p.suffix: p for p in tmp_path.iterdir()}
    assert set(files) == {".html", ".md", ".tex", ".csv"}
    for suffix in files:
        assert f"Report ({suffix[1:]})" in out

    markdown = files[".md"].read_text()
    assert markdown.startswith("# Tiny BERT")
    header = "| variant | method | backend | accuracy (95% CI) | energy mJ/inference ± 95% CI |"
    assert header + " meter accuracy mJ |" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith(("| base", "| int8"))]
    assert len(rows) == 2 and all("estimated" in r and "±" in r for r in rows)
    assert "ESTIMATED, NOT measured" in markdown

    latex = files[".tex"].read_text()
    for needle in (r"\toprule", r"\midrule", r"\bottomrule", r"$\pm$", r"\%", "estimated"):
        assert needle in latex
    assert "±" not in latex and "%" not in latex.replace(r"\%", "")

    csv = pd.read_csv(files[".csv"])
    frame = load(REFERENCE)
    assert list(csv["variant"]) == list(frame["variant"])
    assert csv["energy_j"].tolist() == pytest.approx(frame["energy_j"].tolist())
    assert set(csv["energy_method"]) == {"estimated"}


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX installed (pdflatex)")
def test_latex_table_compiles(tmp_path, capsys):
    main(["report", str(REFERENCE), "--format", "tex", "--out", str(tmp_path)])
    capsys.readouterr()
    table = next(tmp_path.glob("*.tex")).read_text()
    doc = tmp_path / "doc.tex"
    doc.write_text(
        "\\documentclass{article}\\usepackage{booktabs}\\usepackage[margin=1cm,"
        "landscape]{geometry}\\begin{document}" + table + "\\end{document}"
    )
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", doc.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]


def test_png_and_svg_are_drawn_without_a_browser_and_are_not_blank(tmp_path, capsys):
    import matplotlib.image

    code = main(["report", str(REFERENCE), "--format", "png,svg", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "drawn with matplotlib" in out
    stem = load(REFERENCE)["run_id"].iloc[0] + "_phone"
    pixels = matplotlib.image.imread(tmp_path / f"{stem}.png")
    height, width = pixels.shape[:2]
    plot_area = pixels[
        int(height * 0.15) : int(height * 0.7), int(width * 0.1) : int(width * 0.9), :3
    ]
    coloured = (abs(plot_area - 1.0).sum(axis=-1) > 0.3).mean()
    assert 0.002 < coloured < 0.5  # markers and bars drawn, not a blank or solid image
    svg = (tmp_path / f"{stem}.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    # every further view, in both formats, each named in the output
    for view in ("accuracy-vs-energy", "accuracy-vs-latency", "energy", "memory"):
        for suffix in ("png", "svg"):
            path = tmp_path / f"{stem}-{view}.{suffix}"
            assert path.stat().st_size > 5000 and str(path) in out


def test_main_plot_axes_can_be_chosen_and_the_table_marks_the_frontier(tmp_path, capsys):
    code = main(["report", str(REFERENCE), "--format", "html,md", "--out", str(tmp_path),
                 "--x", "energy_j", "--y", "accuracy"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    page = next(tmp_path.glob("*.html")).read_text()
    assert "Accuracy vs energy per inference" in page
    assert page.count('class="plotly-graph-div"') >= 4  # main + latency + energy + memory views
    assert page.count("<script src=") == 0
    markdown = next(tmp_path.glob("*.md")).read_text()
    assert "| Pareto |" in markdown and "| frontier |" in markdown


def test_an_unknown_plot_axis_is_one_line(tmp_path, capsys):
    assert main(["report", str(REFERENCE), "--x", "joules", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "unknown figure 'joules'" in err and "energy_j" in err and len(err.splitlines()) == 1


def test_unknown_format_is_one_line(capsys):
    code = main(["report", str(REFERENCE), "--format", "html,docx"])
    _, err = capsys.readouterr()
    assert code == 1 and "unknown report format 'docx'" in err


def test_batteries_lists_profiles_with_their_assumptions(capsys):
    assert main(["batteries", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["phone"]["usable_energy_j"] == pytest.approx(4.5 * 3.87 * 3600, abs=0.1)
    assert rows["powerbank"]["path_efficiency"] == 0.85
    assert main(["batteries"]) == 0
    assert "custom:5000mAh@3.85V" in capsys.readouterr().out


def test_a_view_equal_to_the_main_plot_is_not_drawn_twice(tmp_path, capsys):
    args = ["report", str(REFERENCE), "--format", "png", "--out", str(tmp_path),
            "--x", "energy_j", "--y", "accuracy"]  # fmt: skip
    assert main(args) == 0, capsys.readouterr().err
    names = sorted(p.name.split("-", 2)[-1] for p in tmp_path.glob("*.png"))
    assert not any(n.endswith("accuracy-vs-energy.png") for n in names), names
    assert any(n.endswith("accuracy-vs-latency.png") for n in names), names


def test_reports_for_two_batteries_and_a_second_of_the_same_are_all_kept(tmp_path, capsys):
    import os
    import stat

    out = ["--out", str(tmp_path), "--format", "html,md"]
    assert main(["report", str(REFERENCE), *out]) == 0
    assert main(["report", str(REFERENCE), "--battery", "laptop", *out]) == 0
    assert main(["report", str(REFERENCE), "--battery", "laptop", *out]) == 0
    assert main(["report", str(REFERENCE), "--y", "energy_j", "--x", "params", *out]) == 0
    names = sorted(p.name for p in tmp_path.glob("*.html"))
    run_id = json.loads(REFERENCE.read_text())["run_id"]
    assert names == sorted(
        [f"{run_id}_phone.html", f"{run_id}_laptop.html", f"{run_id}_laptop-2.html",
         f"{run_id}_phone_energy_j-vs-params.html"]
    )  # fmt: skip
    assert "laptop" in (tmp_path / f"{run_id}_laptop.html").read_text()
    mask = os.umask(0)
    os.umask(mask)
    for path in tmp_path.iterdir():  # as any file the user writes: not 0600 from a temp file
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path.name


def test_every_flag_is_shown_in_every_format_and_summed_up(tmp_path, capsys):
    document = json.loads(REFERENCE.read_text())
    message = "energy per item varies 44% (CV) across windows: close other programs"
    document["measurements"][1]["flags"].append({"code": "unstable", "message": message})
    source = tmp_path / "flagged.json"
    source.write_text(json.dumps(document))
    out = tmp_path / "reports"
    assert main(["report", str(source), "--format", "html,md,tex,csv,png", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"flag: int8: unstable: {message}" in printed
    assert "flags: 2 variants few-windows, 2 variants unstable" in printed
    files = {p.suffix: p for p in out.iterdir() if "-" not in p.stem.split("_")[-1]}
    assert "int8: unstable: energy per item varies 44% (CV)" in files[".md"].read_text()
    assert "unstable" in files[".tex"].read_text()
    page = files[".html"].read_text()
    assert '<ul class="flags">' in page and "int8: unstable: energy per item varies 44%" in page
    assert "flagged: " in page  # the point's hover names its flags
    assert '<div class="scroll"><table' in page  # a wide table scrolls in its box
    csv = pd.read_csv(files[".csv"])
    assert "unstable" in csv.set_index("variant").loc["int8", "flags"]
    assert message in csv.set_index("variant").loc["int8", "flag_notes"]
