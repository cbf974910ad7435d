"""Generation without a model: the task's checks and scores, and the per-token figures
(prefill and decode apart) on a fake clock with a known power trace."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from joulebench import measure_many
from joulebench.devices.simulated import SimulatedMeter
from joulebench.errors import UserError
from joulebench.harness.result import WorkDone
from joulebench.harness.stats import summarize
from joulebench.harness.tokens import difference, token_figures
from joulebench.tasks.generation import (
    Generation,
    GenerationOutput,
    from_texts,
    perplexity,
    perplexity_interval,
)
from joulebench.testing import BusyTrace, FakeClock
from joulebench.testing.generation import document_losses, token_windows

IDLE_W, BUSY_W = 4.0, 20.0
PREFILL_S, TOKEN_S = 0.030, 0.010
BATCH, NEW_TOKENS, PROMPT_TOKENS = 4, 9, 12


def _task(**options) -> Generation:
    texts = [f"text number {i} about the weather and the news" for i in range(12)]
    return from_texts(texts, prompts=3, documents=5, train=2, **options)


# --- the task ---------------------------------------------------------------------------


def test_prompts_documents_and_training_texts_are_disjoint_and_seeded():
    task = _task(seed=3)
    assert len(task.prompts) == 3 and len(task.documents) == 5 and len(task.train) == 2
    assert not set(task.prompts) & set(task.documents)
    assert not set(task.train) & set(task.documents)
    assert _task(seed=3).prompts == task.prompts != _task(seed=4).prompts
    described = task.describe()
    assert described["kind"] == "generate" and described["decoding"] == "greedy"
    assert described["min_new_tokens"] == described["max_new_tokens"] == 32
    assert len(described["test_set_sha256"]) == 64


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"max_new_tokens": 0}, "max_new_tokens must be a whole number > 0"),
        ({"max_new_tokens": -3}, "max_new_tokens must be a whole number > 0"),
        ({"prompt_tokens": 2.5}, "prompt_tokens must be a whole number > 0"),
        ({"ppl_tokens": 1}, "ppl_tokens must be at least 2"),
        ({"documents": ("only one",)}, "at least 2 held-out documents"),
        ({"prompts": ()}, "at least one prompt"),
        ({"documents": ("a b c", "  ")}, "must be a non-empty text"),
        ({"documents": ("p one", "d two")}, "also prompts or training texts"),
        ({"metric": len}, "one reference per prompt"),
    ],
)
def test_bad_settings_are_one_line_naming_the_setting(options, says):
    base = {"prompts": ("p one",), "documents": ("d one", "d two")}
    with pytest.raises(UserError, match=says) as error:
        Generation(**{**base, **options})
    assert "\n" not in str(error.value)


def test_too_few_texts_for_the_counts_says_how_many_are_needed():
    with pytest.raises(UserError, match="3 distinct texts; 2 prompts \\+ 2 documents"):
        from_texts(["a", "b", "c", "a"], prompts=2, documents=2)


def test_perplexity_and_its_bootstrap_interval_over_documents():
    task = _task(bootstrap=2000)
    nll = (10.0, 30.0, 12.0, 25.0, 18.0)
    tokens = (5, 10, 6, 9, 8)
    scores = task.score(GenerationOutput(nll, tokens), task.split().test)
    score = scores.metrics["perplexity"]
    # by hand: exp(total nll / total tokens), and the ratio's delta-method t interval
    ratio = 95.0 / 38.0
    resid = np.array(nll) - ratio * np.array(tokens)
    se = np.std(resid, ddof=1) / math.sqrt(5) / np.mean(tokens)
    half = stats.t.ppf(0.975, 4) * se
    assert score.value == pytest.approx(math.exp(ratio))
    assert perplexity(nll, tokens) == pytest.approx(score.value)
    assert score.ci_low == pytest.approx(math.exp(ratio - half))
    assert score.ci_high == pytest.approx(math.exp(ratio + half))
    assert not score.higher_is_better
    # the bootstrap's resamples are kept for compare's paired test
    assert scores.replicates is not None and scores.replicates.n == 5


def test_the_perplexity_interval_covers_the_truth_95_percent_of_seeded_runs():
    """8 documents of 40-128 tokens whose mean loss differs per document (sd 0.34 nats)."""
    rng = np.random.default_rng(7)
    truth, runs, covered = math.exp(3.4), 2000, 0
    for _ in range(runs):
        nll, tokens = document_losses(rng, 8)
        low, high = perplexity_interval(nll, tokens)
        covered += low <= truth <= high
    assert 0.935 <= covered / runs <= 0.965


def test_a_document_count_that_does_not_match_or_a_non_finite_loss_is_refused():
    task = _task(bootstrap=0)
    test = task.split().test
    with pytest.raises(UserError, match="4 document scores for 5 documents"):
        task.score(GenerationOutput((1.0,) * 4, (2,) * 4), test)
    with pytest.raises(UserError, match="not finite"):
        task.score(GenerationOutput((1.0, 2.0, math.inf, 1.0, 1.0), (2,) * 5), test)
    with pytest.raises(UserError, match="not list"):
        task.score([1, 2, 3], test)


def test_a_user_metric_scores_the_generations_against_the_references():
    texts = [f"question {i} about item {i}" for i in range(10)]
    refs = [f"answer {i}" for i in range(10)]

    def exact(generations, references):
        return float(np.mean([g == r for g, r in zip(generations, references, strict=True)]))

    task = from_texts(texts, references=refs, prompts=4, documents=3, metric=exact, bootstrap=0)
    answers = {t: r for t, r in zip(texts, refs, strict=True)}
    assert task.references == tuple(answers[p] for p in task.prompts)
    right = (*tuple(task.references[:3]), "wrong")
    scores = task.score(GenerationOutput((1.0,) * 3, (2,) * 3, right), task.split().test)
    assert scores.metrics["exact"].value == pytest.approx(0.75)
    assert list(scores.metrics) == ["perplexity", "exact"]


# --- per-token figures ---------------------------------------------------------------------


def test_welch_difference_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(10, 1.0, 7), rng.normal(4, 0.3, 5)
    got = difference(summarize(a), summarize(b))
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert got.low == pytest.approx(ci.low) and got.high == pytest.approx(ci.high)
    scaled = difference(summarize(a), summarize(b), 0.25)
    assert scaled.mean == pytest.approx(got.mean / 4) and scaled.ci95 == pytest.approx(got.ci95 / 4)


@pytest.mark.parametrize("drift", [0.0, 0.8])
def test_the_decode_interval_covers_the_truth_95_percent_of_seeded_runs(drift):
    """5 full and 5 prefill windows per run, noise of different sizes; with drift shared by
    the windows of a round the interval may only grow more conservative."""
    rng = np.random.default_rng(1)
    full_j, prefill_j, runs = 10.0, 2.0, 4000
    truth = (full_j - prefill_j) / (NEW_TOKENS - 1)
    covered = 0
    for _ in range(runs):
        full, prefill = token_windows(rng, drift, full_j=full_j, prefill_j=prefill_j)
        d = difference(summarize(full), summarize(prefill), 1 / (NEW_TOKENS - 1))
        covered += d.low <= truth <= d.high
    rate = covered / runs
    assert 0.935 <= rate <= 0.965 if drift == 0 else rate >= 0.94


def _generation_workloads(trace: BusyTrace, clock: FakeClock):
    def batch(prefill_only: bool):
        call_s = PREFILL_S if prefill_only else PREFILL_S + (NEW_TOKENS - 1) * TOKEN_S
        busy = trace.workload(call_s)

        def run(n: int) -> WorkDone:
            busy(n)
            return WorkDone(n * BATCH, (call_s,) * n, (BATCH,) * n)

        return run

    return {"gen": batch(False), "gen [prefill]": batch(True)}


def _figures(host, windows: int, new_tokens: int):
    """Full and prefill windows measured on a fake clock with a known power trace."""
    clock = FakeClock()
    trace = BusyTrace(clock, IDLE_W, BUSY_W)
    meter = SimulatedMeter(trace, clock=clock)
    results = measure_many(
        _generation_workloads(trace, clock), meter, clock=clock, host_probe=host, seed=1,
        windows=windows, min_window_s=1.0,
    )  # fmt: skip
    return token_figures(results["gen"], results["gen [prefill]"], PROMPT_TOKENS, new_tokens,
                         BATCH)  # fmt: skip


def test_prefill_and_decode_come_apart_exactly_on_a_fake_clock(host):
    figures = _figures(host, windows=5, new_tokens=NEW_TOKENS)
    full_s = PREFILL_S + (NEW_TOKENS - 1) * TOKEN_S
    assert figures.request_j.mean == pytest.approx(BUSY_W * full_s / BATCH)
    assert figures.decode_token_j.mean == pytest.approx(BUSY_W * TOKEN_S / BATCH)
    assert figures.prefill_token_j.mean == pytest.approx(BUSY_W * PREFILL_S / BATCH / PROMPT_TOKENS)
    assert figures.net_decode_token_j.mean == pytest.approx((BUSY_W - IDLE_W) * TOKEN_S / BATCH)
    assert figures.ttft_p50_s == pytest.approx(PREFILL_S)
    assert figures.tpot_p50_s == pytest.approx(TOKEN_S)
    assert figures.output_tokens_per_s == pytest.approx(BATCH * NEW_TOKENS / full_s)
    assert figures.decode_token_j.interval == "welch"


def test_one_new_token_has_no_decode_figure(host):
    figures = _figures(host, windows=3, new_tokens=1)
    assert figures.decode_token_j is None and figures.tpot_p50_s is None


def test_progress_plans_a_full_and_a_prefill_window_per_variant_each_round():
    import io

    from joulebench.cli.pipeline import window_kinds
    from joulebench.cli.progress import PlainLog

    assert window_kinds(_task()) == 2 and window_kinds(object()) == 1
    log = PlainLog(3, 5, kinds=window_kinds(_task()), stream=io.StringIO())
    assert log.round_size == 3 * 2 + 1 and log.planned == 7 * 5


def test_a_batch_size_sweep_makes_a_row_per_size_with_parents_renamed_alike():
    from pydantic import ValidationError

    from joulebench.config import RunConfig
    from joulebench.variants.spec import VariantSpec, sweep

    specs = [VariantSpec(name="base", path="m"),
             VariantSpec(name="int8", parent="base", path="m", batch_size=2),
             VariantSpec(name="other", parent="elsewhere", path="m")]  # fmt: skip
    swept = sweep(specs, [1, 4])
    assert [s.name for s in swept] == ["base@b1", "int8@b1", "other@b1",
                                       "base@b4", "int8@b4", "other@b4"]  # fmt: skip
    assert [s.batch_size for s in swept] == [1, 1, 1, 4, 4, 4]
    assert swept[4].parent == "base@b4" and swept[5].parent == "elsewhere"
    assert sweep(specs, None) == specs
    for bad in ([], [0, 4], [4, 4]):
        with pytest.raises(ValidationError):
            RunConfig(batch_sizes=bad)
