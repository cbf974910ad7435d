"""Generation end to end on a random tiny Llama (no download): every variant's perplexity
on its own weights, prefill and decode windows interleaved, per-token figures, reports and
bad inputs."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from joulebench.cli.main import main
from joulebench.errors import MeasurementError
from joulebench.harness.variant_run import PREFILL_SUFFIX, run_variants
from joulebench.results import load, read_document, save_variants
from joulebench.tasks.generation import from_texts
from joulebench.variants import VariantSpec
from tests.models import make_tiny_bert, make_tiny_llama, story_texts

FAST = {
    "meter": "estimate",
    "batch_size": 2,
    "min_window_s": 0.2,
    "windows": 3,
    "warmup_s": 0.1,
    "warmup_calls": 2,
}
PROMPT_TOKENS, NEW_TOKENS, PPL_TOKENS = 6, 8, 20


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return make_tiny_llama(tmp_path_factory.mktemp("models") / "llama")


@pytest.fixture(scope="module")
def task():
    return from_texts(
        story_texts(30), prompts=5, documents=6, max_new_tokens=NEW_TOKENS,
        prompt_tokens=PROMPT_TOKENS, ppl_tokens=PPL_TOKENS, bootstrap=2000,
    )  # fmt: skip


@pytest.fixture(scope="module")
def measured(llama, task, tmp_path_factory):
    bert = make_tiny_bert(tmp_path_factory.mktemp("models") / "bert")
    specs = [
        VariantSpec(name="base", path=llama),
        VariantSpec(
            name="int8",
            method="int8",
            parent="base",
            path=llama,
            recipe={"quantize": "dynamic-int8"},
        ),
        VariantSpec(name="encoder", path=bert),
    ]
    return run_variants(specs, task, **FAST)


def _perplexity_by_hand(folder, documents):
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = LlamaForCausalLM.from_pretrained(folder).eval()
    total_nll, total_tokens = 0.0, 0
    for text in documents:
        ids = tokenizer(text)["input_ids"][:PPL_TOKENS]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].double()
        logp = torch.log_softmax(logits, -1)
        total_nll -= sum(float(logp[i, ids[i + 1]]) for i in range(len(ids) - 1))
        total_tokens += len(ids) - 1
    return math.exp(total_nll / total_tokens)


def test_each_variant_gets_perplexity_and_per_token_figures(measured, task, llama):
    assert [r.spec.name for r in measured.results] == ["base", "int8"]
    base, int8 = measured.results
    assert base.scores.primary.name == "perplexity"
    assert base.scores.primary.value == pytest.approx(
        _perplexity_by_hand(llama, task.documents), rel=1e-4
    )
    for result in measured.results:
        score = result.scores.primary
        assert score.ci_low < score.value < score.ci_high and not score.higher_is_better
        tokens = result.tokens
        assert tokens.prompt_tokens == PROMPT_TOKENS and tokens.new_tokens == NEW_TOKENS
        full, prefill = result.energy, result.prefill
        assert prefill.label == result.spec.name + PREFILL_SUFFIX
        # per request: 5 prompts at batch 2 -> batches of 2, 2, 1, every item counted
        assert all(w.items == sum(w.latency_items) for w in (*full.windows, *prefill.windows))
        decode = (full.energy_per_item_j.mean - prefill.energy_per_item_j.mean) / (NEW_TOKENS - 1)
        assert tokens.decode_token_j.mean == pytest.approx(decode)
        assert tokens.prefill_token_j.mean == pytest.approx(
            prefill.energy_per_item_j.mean / PROMPT_TOKENS
        )
        ttft = [t for w in prefill.windows
                for t, k in zip(w.latencies_s, w.latency_items, strict=True) if k == 2]  # fmt: skip
        assert tokens.ttft_p50_s == pytest.approx(float(np.median(ttft)))
        assert tokens.output_tokens_per_s > 0 and tokens.tpot_p50_s is not None
        # a full generation takes longer than reading the prompt and making one token
        assert full.duration_per_item_s.mean > prefill.duration_per_item_s.mean
        assert result.details["decoding"] == "greedy" and result.details["kv_cache"] is True
    assert int8.details["kernel"].startswith("torch.ao")


def test_the_tokenizer_has_no_pad_token_and_nothing_needs_one(llama):
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(llama).pad_token is None


def test_a_model_that_is_not_causal_is_one_failure_line(measured):
    [failure] = measured.failures
    assert failure.name == "encoder"
    assert "not a causal language model" in failure.line and "\n" not in failure.line


def test_results_reports_and_compare_read_a_generation_run(measured, task, tmp_path, capsys):
    first = save_variants(measured, tmp_path / "a", task=task.describe())
    second = save_variants(measured, tmp_path / "b", task=task.describe())
    document = read_document(first)
    assert document["task"]["kind"] == "generate"
    generation = document["measurements"][0]["variant"]["generation"]
    assert generation["new_tokens"] == NEW_TOKENS and generation["decode_token_j"]["interval"]
    assert len(generation["prefill"]["windows"]) == 3
    frame = load(first)
    row = frame.set_index("variant").loc["base"]
    assert row["decode_token_j"] == pytest.approx(generation["decode_token_j"]["mean"])
    assert row["tokens_per_charge"] == pytest.approx(row["inferences_per_charge"] * NEW_TOKENS)
    from joulebench.reports.axes import resolve

    y = resolve("accuracy", frame)  # the default y axis: perplexity, log scale, lower is better
    assert y.column == "score" and y.log and not y.higher_is_better
    report = tmp_path / "report"
    assert main(["report", str(first), "--out", str(report), "--format", "html,md"]) == 0
    assert "perplexity" in capsys.readouterr().out
    [markdown] = report.glob("*.md")
    text = markdown.read_text()
    for header in ("mJ/output token", "mJ/prompt token", "TTFT p50/p95 ms", "responses per"):
        assert header in text
    [page] = report.glob("*.html")
    html = page.read_text()
    assert "responses of 8 output tokens per phone charge" in html
    assert "t of log-perplexity over documents for perplexity" in html
    assert "Wilson for accuracy" not in html
    assert main(["report", str(first), "--out", str(report), "--format", "methods"]) == 0
    [methods] = report.glob("*.methods.md")
    text = methods.read_text()
    assert (
        f"cut to its first {PROMPT_TOKENS} tokens and continued with exactly {NEW_TOKENS}" in text
    )
    assert "One request is one prompt" in text and "prefill only" in text
    assert "interval of log-perplexity" in text and "BCa" not in text
    assert "welch1947" in next(report.glob("*.methods.bib")).read_text()
    assert main(["compare", str(first), str(second)]) == 0


def test_lengths_beyond_the_models_context_are_one_line(llama):
    task = from_texts(story_texts(30, words=60), prompts=2, documents=2, prompt_tokens=40,
                      max_new_tokens=30)  # fmt: skip
    with pytest.raises(MeasurementError) as error:
        run_variants([VariantSpec(name="base", path=llama)], task, **FAST)
    assert "40 + max_new_tokens 30 = 70 exceed its context of 64 tokens" in str(error.value)
    assert "\n" not in str(error.value)


def test_a_prompt_shorter_than_prompt_tokens_is_one_line(llama):
    task = from_texts(story_texts(30, words=5), prompts=2, documents=2, prompt_tokens=10,
                      ppl_tokens=20)  # fmt: skip
    with pytest.raises(MeasurementError) as error:
        run_variants([VariantSpec(name="base", path=llama)], task, **FAST)
    assert "fewer than prompt_tokens=10" in str(error.value) and "\n" not in str(error.value)


def test_an_experiment_file_runs_a_generation_task(llama, tmp_path, capsys):
    with (tmp_path / "texts.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "answer"])
        for text in story_texts(20):
            writer.writerow([text, text.split()[PROMPT_TOKENS]])
    (tmp_path / "metric.py").write_text(
        "def next_word(generations, references):\n"
        "    return sum(g.split()[:1] == [r] for g, r in zip(generations, references))"
        " / len(references)\n"
    )
    (tmp_path / "exp.toml").write_text(
        f"""
[task]
kind = "generate"
data = "{tmp_path / "texts.csv"}"
prompts = 4
documents = 4
prompt_tokens = {PROMPT_TOKENS}
max_new_tokens = 4
ppl_tokens = 12
metric = "{tmp_path / "metric.py"}:next_word"
reference_column = "answer"
bootstrap = 0

[[variants]]
name = "base"
path = "{llama}"

[meter]
name = "estimate"

[protocol]
windows = 2
min_window_s = 0.2
warmup_s = 0.1
warmup_calls = 2

[run]
batch_sizes = [1, 2]
"""
    )
    code = main(["run", str(tmp_path / "exp.toml"), "--out", str(tmp_path / "results"),
                 "--reports", str(tmp_path / "reports"), "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr()
    [path] = (tmp_path / "results").rglob("*.json")
    measurements = read_document(path)["measurements"]
    assert [m["label"] for m in measurements] == ["base@b1", "base@b2"]  # a row per batch size
    assert [m["variant"]["generation"]["batch_size"] for m in measurements] == [1, 2]
    variant = measurements[0]["variant"]
    assert set(variant["metrics"]) == {"perplexity", "next_word"}
    assert 0.0 <= variant["metrics"]["next_word"]["value"] <= 1.0
    assert variant["generation"]["new_tokens"] == 4
    # the user's metric has a column of its own beside perplexity, with its interval
    from joulebench.reports.tables import figures_table

    table = figures_table(load(path))
    assert table.loc[0, "perplexity (95% CI)"].count("[") == 1
    assert "next_word (95% CI)" in table.columns
