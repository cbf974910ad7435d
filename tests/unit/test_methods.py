"""The methods section: every fact it states is the run document's, and it states nothing the
run did not do. The fixture is a real ``joulebench demo --quick`` run (estimate meter)."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from joulebench.batteries import battery
from joulebench.cli.main import main
from joulebench.harness import stopping
from joulebench.reports.citations import WORKS
from joulebench.reports.methods import write_methods
from joulebench.reports.numbers import significant
from joulebench.results.frame import read_document
from joulebench.results.schema import variant_to_dict
from joulebench.variants.recipe import RECORD
from joulebench.variants.spec import VariantSpec

DATA = Path(__file__).parents[1] / "data"
DEMO = DATA / "demo-quick-run.json"


@pytest.fixture
def demo() -> dict[str, Any]:
    return read_document(DEMO)


def methods(document: dict[str, Any], name: str = "run.json", profile: str = "phone"):
    return write_methods([(Path(name), document)], battery(profile), bib_name="run.methods")


def bib_keys(bib: str) -> list[str]:
    return re.findall(r"^@\w+\{([a-z0-9]+),", bib, flags=re.MULTILINE)


def latex_keys(tex: str) -> set[str]:
    return {k for group in re.findall(r"\\cite\{([^}]*)\}", tex) for k in group.split(",")}


def test_every_fact_of_the_demo_run_is_stated_from_its_document(demo):
    text = methods(demo).markdown
    machine = demo["machine"]
    for fact in (
        machine["cpu_model"],
        f"{machine['logical_cpus']} logical CPUs",
        demo["machine_id"],
        machine["kernel"],
        *(f"{name} {version}" for name, version in machine["libraries"].items()),
        demo["run_id"],
        demo["created_utc"],
    ):
        assert fact in text, fact
    first = demo["measurements"][0]
    assert f"the {first['meter']} meter" in text
    assert f"Its scope is {first['scope']}" in text
    assert "ESTIMATED" in text.split("### Energy measurement")[1].split("\n\n")[1]
    rel = first["systematic"]["accuracy"]["rel_frac"]
    assert f"±{100 * rel:.3g}%" in text
    windows = {m["figures"]["energy_per_item_j"]["n"] for m in demo["measurements"]}
    assert windows == {demo["settings"]["windows"]}
    assert f"A fixed number of windows was taken: {windows.pop()} per workload." in text
    assert f"taken in {len(demo['order'])} rounds" in text
    assert f"seeded with {demo['order_seed']}" in text
    assert f"{demo['task']['test']:,} held-out test examples" in text
    assert f"{demo['task']['train']:,} training examples" in text
    assert f"at least {demo['settings']['warmup_calls']} calls" in text
    assert f"at least {significant(first['min_window_s'], 2)} s" in text
    idle = first["figures"]["idle_power_w"]
    assert f"was {significant(idle['mean'])} W ± {significant(idle['ci95'], 2)} W" in text
    for m in demo["measurements"]:
        assert f"- {m['label']}" in text
        for flag in m["flags"]:
            assert flag["code"] in text
    # each variant's hyper-parameters come from its build record in the document
    distilled = next(m["variant"] for m in demo["measurements"] if m["label"] == "distilled-3L")
    recipe = distilled["build"]["recipe"]
    line = next(x for x in text.splitlines() if x.startswith("- distilled-3L"))
    for key in ("layers", "temperature", "alpha", "learning_rate", "seed"):
        assert f"{key} {recipe[key]}" in line, key
    assert f"torch {distilled['build']['libraries']['torch']}" in line
    assert "Hinton et al., 2015" in line
    lora = next(x for x in text.splitlines() if x.startswith("- lora-adapter"))
    assert "rank 8" in lora and "measured unmerged" in lora


def test_a_fixed_window_run_never_mentions_steins_rule_and_an_adaptive_one_says_its_plan(demo):
    fixed = methods(demo)
    assert "Stein" not in fixed.markdown and "stein1945" not in fixed.bibtex
    adaptive = copy.deepcopy(demo)
    for index, m in enumerate(adaptive["measurements"]):
        m["stopping"] = stopping.describe(
            rule=stopping.RULE_STEIN, windows=12, pilot=10, target_rel=0.05,
            planned=12 + index, cap_windows=40, max_time_s=600.0, reached=index < 3,
        )  # fmt: skip
        m["figures"]["energy_per_item_j"]["interval"] = "stein-two-stage"
    text = methods(adaptive)
    assert "a pilot of 10 windows" in text.markdown
    assert "half-width of 5% of the mean" in text.markdown
    assert "distilled-3L 13" in text.markdown  # the plan of each workload, from its record
    assert "NOT completed within the caps" in text.markdown
    assert "at most 40 windows and 600 s" in text.markdown
    assert "stein1945" in bib_keys(text.bibtex)


def test_a_counter_meter_is_called_measured_and_its_battery_count_optimistic(demo):
    rapl = copy.deepcopy(demo)
    for m in rapl["measurements"]:
        m.update(meter="rapl", method="counter", scope="package+dram",
                 method_label="measured (hardware energy counter)",
                 meter_reason="auto: rapl, readable")  # fmt: skip
        m["systematic"]["accuracy"] = {"rel_frac": 0.05, "source": "assumed"}
    text = methods(rapl)
    assert "ESTIMATED" not in text.markdown
    assert "Energy was measured (hardware energy counter) with the rapl meter" in text.markdown
    assert "DRAM" in text.markdown and "these counts are optimistic" in text.markdown
    assert {"david2010", "hackenberg2015", "desrochers2016"} <= set(bib_keys(text.bibtex))
    assert "optimistic" not in methods(demo).markdown  # the estimate's scope is not a component


def test_without_idle_windows_no_net_energy_is_claimed(demo):
    no_idle = copy.deepcopy(demo)
    no_idle["settings"]["idle"] = False
    no_idle["idle_windows"] = []
    text = methods(no_idle).markdown
    assert "No idle windows were measured, so the run gives no net energy." in text
    assert "Idle power" not in text and "idle window," not in text


def test_the_bib_holds_exactly_what_the_text_cites(demo):
    text = methods(demo)
    keys = bib_keys(text.bibtex)
    assert len(keys) == len(set(keys))
    assert set(keys) == latex_keys(text.latex)
    for key in keys:  # the Markdown cites each in author-year form, listed under References
        assert WORKS[key].cite in text.markdown
        assert WORKS[key].reference in text.markdown.split("### References")[1]


def test_latex_is_escaped_and_balanced(demo):
    odd = copy.deepcopy(demo)
    odd["measurements"][0]["variant"]["name"] = "base_fp32 & 100% #1 ≥ 5 µs"
    text = methods(odd)
    tex = text.latex
    assert r"base\_fp32 \& 100\% \#1 $\geq$ 5 $\mu$s" in tex
    assert tex.isascii() and text.bibtex.isascii()  # pdflatex's default fonts set all of it
    body = "\n".join(line for line in tex.splitlines() if not line.startswith("%"))
    assert body.count("{") == body.count("}")
    assert body.count(r"\begin{itemize}") == body.count(r"\end{itemize}")
    unescaped = re.findall(r"(?<!\\)[%&#_]", body)
    assert not unescaped, unescaped


@pytest.mark.skipif(not shutil.which("pdflatex") or not shutil.which("bibtex"),
                    reason="pdflatex and bibtex are not installed here")  # fmt: skip
def test_latex_compiles_with_its_bib(demo, tmp_path):
    text = methods(demo)
    (tmp_path / "run.methods.tex").write_text(text.latex, encoding="utf-8")
    (tmp_path / "run.methods.bib").write_text(text.bibtex, encoding="utf-8")
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\begin{document}\n"
        "\\input{run.methods.tex}\n\\bibliographystyle{plain}\n\\bibliography{run.methods}\n"
        "\\end{document}\n",
        encoding="utf-8",
    )
    latex = ("pdflatex", "-interaction=nonstopmode", "paper.tex")
    for args in (latex, ("bibtex", "paper"), latex, latex):
        done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]
    log = (tmp_path / "paper.log").read_text(errors="replace")
    assert "undefined" not in log, log[-2000:]


def test_a_variant_without_a_build_record_is_not_credited_to_a_method(demo):
    old = copy.deepcopy(demo)
    for m in old["measurements"]:
        m["variant"].pop("build", None)
    text = methods(old)
    line = next(x for x in text.markdown.splitlines() if x.startswith("- distilled-3L"))
    assert "no build record" in line and "Hinton" not in line
    assert "hinton2015" not in bib_keys(text.bibtex)


def test_several_runs_are_described_one_after_another(demo):
    other = copy.deepcopy(demo)
    other["run_id"] = "second-run"
    text = write_methods(
        [(Path("a.json"), demo), (Path("b.json"), other)], battery("phone"), "x"
    ).markdown
    assert f"### Run {demo['run_id']}: Energy measurement" in text
    assert "### Run second-run: Energy measurement" in text
    assert text.count("### References") == 1


def test_report_format_methods_writes_three_files_and_never_replaces_one(tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(DEMO, results / "run.json")
    out = tmp_path / "reports"
    assert main(["report", str(results), "--format", "methods", "--out", str(out)]) == 0
    first = sorted(p.name for p in out.iterdir())
    stem = read_document(DEMO)["run_id"] + "_phone"
    assert first == [f"{stem}.methods.{s}" for s in ("bib", "md", "tex")]
    assert "## Methods" in (out / f"{stem}.methods.md").read_text(encoding="utf-8")
    assert main(["report", str(results), "--format", "methods", "--out", str(out)]) == 0
    assert (out / f"{stem}-2.methods.md").is_file()
    printed = capsys.readouterr().out
    assert f"{stem}-2.methods.tex" in printed


def test_variant_documents_carry_the_folders_build_record(tmp_path):
    folder = tmp_path / "built"
    folder.mkdir()
    (folder / RECORD).write_text('{"method": "distill", "recipe": {"layers": 3}}')
    result = mock.MagicMock()
    result.spec = VariantSpec(name="d", method="distill", path=folder)
    assert variant_to_dict(result)["build"] == {"method": "distill", "recipe": {"layers": 3}}
    result.spec = VariantSpec(name="plain", path=tmp_path)  # a folder without a record
    assert variant_to_dict(result)["build"] is None


def test_the_docs_example_is_what_the_command_writes_today(demo):
    """docs/examples/demo-methods.md is regenerated, never edited: this fails when it is stale."""
    docs = Path(__file__).parents[2] / "docs" / "examples"
    text = methods(demo, name=DEMO.name)
    stem = f"{demo['run_id']}_phone.methods"
    written = write_methods([(DEMO, demo)], battery("phone"), bib_name=stem)
    example = (docs / "demo-methods.md").read_text(encoding="utf-8")
    assert example.split("-->\n\n", 1)[1] == written.markdown
    assert (docs / "demo-methods.bib").read_text(encoding="utf-8") == text.bibtex


def test_the_source_names_the_commit_measured_when_the_run_recorded_one(demo):
    assert "The code measured" not in methods(demo).markdown  # recorded before provenance
    recorded = copy.deepcopy(demo)
    recorded["provenance"] = {"commit": "0123456789abcdef0123", "branch": "main", "dirty": True,
                              "ci": {"run_url": "https://ci.example/run/9"}}  # fmt: skip
    text = methods(recorded).markdown
    assert ("The code measured was commit 0123456789ab on branch main, with uncommitted "
            "changes to tracked files, in CI run https://ci.example/run/9.") in text  # fmt: skip
