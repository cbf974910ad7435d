"""A task's own metric: scipy's BCa interval, its stored replicates, and the paired bootstrap."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import bootstrap

from joulebench import tasks
from joulebench.errors import UserError
from joulebench.results.compare import UNPAIRED_INTERVALS, compare
from joulebench.statistics.bootstrap import (
    MAX_RESAMPLES,
    MIN_RESAMPLES,
    PAIRED_BOOTSTRAP,
    Replicates,
    bca_interval,
    paired_difference,
    resamples_for,
)
from tests.paired_docs import variant_document, write


def mean_abs_error(predictions, labels):
    return float(np.mean(np.abs(np.asarray(predictions) - np.asarray(labels))))


def test_the_interval_is_scipys_bca_and_the_replicates_are_its_distribution():
    values = np.random.default_rng(0).exponential(size=60)
    low, high, replicates = bca_interval(
        lambda index: float(values[index].mean()), values.size, seed=5, resamples=2000
    )
    expected = bootstrap((values,), np.mean, n_resamples=2000, method="BCa",
                         random_state=np.random.default_rng(5), vectorized=False)  # fmt: skip
    assert (low, high) == pytest.approx(
        (expected.confidence_interval.low, expected.confidence_interval.high)
    )
    assert np.allclose(replicates.values, expected.bootstrap_distribution)
    assert replicates.observed == pytest.approx(values.mean())


def test_resamples_are_9999_where_cheap_and_at_least_2000_otherwise():
    assert resamples_for(1e-6, 500) == MAX_RESAMPLES
    assert resamples_for(1e-3, 500) == MIN_RESAMPLES
    with pytest.raises(UserError, match="too few resamples"):
        tasks.generic([1, 2, 3], [1, 2, 3], mean_abs_error, bootstrap=200)


def test_a_generic_task_keeps_replicates_that_survive_the_results_file():
    x = np.random.default_rng(1).normal(size=80)
    task = tasks.generic(x, x.tolist(), mean_abs_error, higher_is_better=False)
    scores = task.score(list(x + 0.3), task.split().test)
    assert scores.replicates is not None
    # 9,999 where one call is cheap, else 2,000: timed on this machine (resamples_for above)
    assert scores.replicates.values.size in (MIN_RESAMPLES, MAX_RESAMPLES)
    back = Replicates.from_dict(json.loads(json.dumps(scores.replicates.to_dict())))
    assert back is not None and back.pairs_with(scores.replicates)
    assert np.allclose(back.values, scores.replicates.values, rtol=1e-6)
    assert scores.primary.ci_low < 0.3 + 1e-9 <= scores.primary.ci_high + 1e-9


def two_variants(shift):
    rng = np.random.default_rng(2)
    truth = rng.normal(size=200)
    # a fixed count: left to itself it is timed per variant (9,999 or 2,000), and replicates
    # of different counts do not pair (compare then falls back to the unpaired test)
    task = tasks.generic(
        truth, truth.tolist(), mean_abs_error, higher_is_better=False, bootstrap=MIN_RESAMPLES
    )
    test = task.split().test
    order = np.asarray(test.inputs)
    error = rng.exponential(size=order.size)  # all above the truth: a shift adds to the MAE
    first = task.score(list(order + error), test)
    second = task.score(list(order + error + shift), test)
    return first, second


def test_paired_bootstrap_sees_a_small_consistent_change_the_intervals_cannot(tmp_path):
    first, second = two_variants(0.05)
    diff, low, high, p_value = paired_difference(first.replicates, second.replicates)
    assert diff == pytest.approx(second.primary.value - first.primary.value)
    assert 0 < low <= diff <= high and p_value < 0.01
    # the two intervals on their own overlap: unpaired, no evidence of a change
    assert second.primary.ci_low < first.primary.ci_high

    def document(scores):
        doc = variant_document()
        for m in doc["measurements"]:
            m["variant"].update(accuracy=None, primary_metric="mean_abs_error",
                                metrics={"mean_abs_error": scores.primary.to_dict()},
                                outcomes=scores.replicates.to_dict())  # fmt: skip
        return doc

    a = write(tmp_path, "a.json", document(first))
    b_doc = document(second)
    changes, notes = compare(a, write(tmp_path, "b.json", b_doc), ["score:+1%"])
    score = next(c for c in changes if c.metric == "score")
    assert score.test == PAIRED_BOOTSTRAP and score.verdict == "regressed"
    for m in b_doc["measurements"]:
        m["variant"]["outcomes"] = None
    changes, notes = compare(a, write(tmp_path, "c.json", b_doc), ["score:+1%"])
    score = next(c for c in changes if c.metric == "score")
    assert score.test == UNPAIRED_INTERVALS and score.verdict == "within noise"
    assert any("no bootstrap replicates recorded" in n for n in notes)
