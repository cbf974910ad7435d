"""Paired accuracy: McNemar's exact test, Newcombe's interval, outcomes, and compare using them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import binomtest

from joulebench.cli.main import main
from joulebench.results.compare import TWO_PROPORTIONS, compare
from joulebench.statistics.multiple import adjust, holm
from joulebench.statistics.paired import MCNEMAR, mcnemar_exact, newcombe_interval, paired_accuracy
from joulebench.tasks.outcomes import Outcomes, hash_test_set
from tests.paired_docs import flip, set_outcomes, variant_document, write


def test_mcnemar_is_scipys_exact_binomial_test_on_the_discordant_examples():
    a = np.array([1, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1], dtype=bool)
    b = np.array([1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1], dtype=bool)
    # by hand: A right and B wrong at 1, 2, 6, 9, 12 (5); B right and A wrong at 4 (1)
    paired = paired_accuracy(a, b)
    assert (paired.a_only, paired.b_only) == (5, 1)
    assert paired.p_value == pytest.approx(binomtest(1, 6, 0.5).pvalue)
    assert paired.p_value == pytest.approx(2 * (1 + 6) / 2**6)  # P(X <= 1) twice, X ~ B(6, 1/2)
    assert paired.difference == pytest.approx(-4 / 14)
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(10, 0) == pytest.approx(2 * 0.5**10)


def test_newcombes_interval_covers_the_true_difference_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    # true cell probabilities: both right, A only, B only, neither
    cells = np.array([0.80, 0.06, 0.03, 0.11])
    truth = cells[2] - cells[1]
    trials, covered = 4000, 0
    for _ in range(trials):
        both, a_only, b_only, neither = rng.multinomial(300, cells)
        low, high = newcombe_interval(both, a_only, b_only, neither)
        covered += low <= truth <= high
    assert 0.935 <= covered / trials <= 0.965


def test_newcombes_interval_holds_a_hand_computed_case():
    # 40 both right, 5 A only, 1 B only, 4 neither (n = 50)
    z = 1.959963984540054
    n, p_b, p_a = 50, 41 / 50, 45 / 50

    def wilson(p):
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return centre - half, centre + half

    (lb, ub), (la, ua) = wilson(p_b), wilson(p_a)
    phi = (40 * 4 - 1 * 5) / np.sqrt(41 * 9 * 45 * 5)
    delta = np.sqrt((p_b - lb) ** 2 - 2 * phi * (p_b - lb) * (ua - p_a) + (ua - p_a) ** 2)
    epsilon = np.sqrt((ub - p_b) ** 2 - 2 * phi * (ub - p_b) * (p_a - la) + (p_a - la) ** 2)
    low, high = newcombe_interval(40, 5, 1, 4)
    assert (low, high) == pytest.approx((p_b - p_a - delta, p_b - p_a + epsilon))
    # 4 of 6 discordant examples against B is no evidence (McNemar p = 0.22): 0 is inside
    assert low < -0.08 < 0 < high
    assert mcnemar_exact(5, 1) > 0.05


def test_holm_and_benjamini_hochberg_match_hand_computations():
    p = [0.01, 0.04, 0.03, 0.5]
    # Holm: sorted 0.01 x4, 0.03 x3, 0.04 x2 (kept at least the step before), 0.5 x1
    assert holm(p) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    # BH: 0.5 x 4/4, 0.04 x 4/3, 0.03 x 4/2 -> min from the top, 0.01 x 4
    assert adjust(p, "bh") == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
    assert adjust(p, "none") == p


def test_outcomes_round_trip_and_the_test_sets_hash_depends_on_order():
    right = np.random.default_rng(0).random(1001) < 0.7
    outcomes = Outcomes(right, hash_test_set(["a", "b"], [0, 1]))
    back = Outcomes.from_dict(json.loads(json.dumps(outcomes.to_dict())))
    assert back is not None and np.array_equal(back.correct, right) and back.pairs_with(outcomes)
    assert len(outcomes.to_dict()["bits"]) <= 4 * (1001 // 8 + 1) // 3 + 4
    assert hash_test_set(["a", "b"], [0, 1]) != hash_test_set(["b", "a"], [1, 0])
    assert hash_test_set(["ab", "c"], [0, 1]) != hash_test_set(["a", "bc"], [0, 1])
    assert hash_test_set(np.zeros((2, 3)), np.array([0, 1])) == hash_test_set(
        np.zeros((2, 3)), [0, 1]
    )
    assert Outcomes.from_dict({"kind": "correct", "n": 9, "bits": "AA==", "test_set": "x"}) is None


def demo_like(n=300, accuracy=0.9, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.random(n) < accuracy
    int8 = base.copy()
    return base, int8


def test_ten_flipped_answers_are_a_significant_drop_only_the_paired_test_sees(tmp_path):
    base, int8 = demo_like()
    document = variant_document()
    a = write(tmp_path, "a.json", set_outcomes(document, {"base": base, "int8": int8}))
    b_doc = set_outcomes(document, {"base": base, "int8": flip(int8, 10)})
    b = write(tmp_path, "b.json", b_doc)
    changes, notes = compare(a, b)
    drop = next(c for c in changes if c.variant == "int8" and c.metric == "accuracy")
    assert drop.test == MCNEMAR and drop.verdict == "regressed"
    assert drop.p_value == pytest.approx(2 * 0.5**10)
    assert drop.ci_high < 0 and drop.change == pytest.approx(-10 / 300)
    same = next(c for c in changes if c.variant == "base" and c.metric == "accuracy")
    assert same.p_value == 1.0 and same.verdict == "within noise"
    # the same two accuracies compared as if from different examples: not significant
    for m in b_doc["measurements"]:
        m["variant"].pop("outcomes")
    unpaired = write(tmp_path, "unpaired.json", b_doc)
    changes, notes = compare(a, unpaired)
    drop = next(c for c in changes if c.variant == "int8" and c.metric == "accuracy")
    assert drop.test == TWO_PROPORTIONS and drop.p_value > 0.05 and drop.verdict == "within noise"
    assert any("int8: accuracy compared unpaired" in n and "not recorded" in n for n in notes)


def test_json_rows_name_the_test_and_its_p_values(tmp_path, capsys):
    base, int8 = demo_like()
    document = variant_document()
    a = write(tmp_path, "a.json", set_outcomes(document, {"base": base, "int8": int8}))
    b = write(tmp_path, "b.json", set_outcomes(document, {"base": base, "int8": flip(int8, 10)}))
    assert main(["compare", a, b, "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    row = next(r for r in out["changes"] if r["variant"] == "int8" and r["metric"] == "accuracy")
    assert row["test"] == "mcnemar-exact" and row["p_value"] == pytest.approx(2 * 0.5**10)
    assert row["p_adjusted"] >= row["p_value"] and row["correction"] == "holm"
    assert out["correction"] == "holm"


def test_outcomes_of_another_test_set_are_not_paired(tmp_path):
    base, int8 = demo_like()
    document = variant_document()
    a = write(tmp_path, "a.json", set_outcomes(document, {"base": base, "int8": int8}))
    other = set_outcomes(document, {"base": base, "int8": flip(int8, 10)}, test_set="cd" * 32)
    b = write(tmp_path, "b.json", other)
    with pytest.raises(Exception, match="test set differs"):
        compare(a, b)
    changes, notes = compare(a, b, allow_different_settings=True)
    drop = next(c for c in changes if c.variant == "int8" and c.metric == "accuracy")
    assert drop.test == TWO_PROPORTIONS
    assert any("different test sets" in n for n in notes)
    assert any("SETTINGS DIFFER" in n for n in notes)


def test_tests_that_cannot_reach_significance_are_left_out_of_the_correction():
    from joulebench.statistics.multiple import tarone_family
    from joulebench.statistics.paired import mcnemar_floor

    assert mcnemar_floor(0) == 1.0 and mcnemar_floor(5) == pytest.approx(0.0625)
    assert mcnemar_floor(10) == pytest.approx(2 * 0.5**10)
    # 20 continuous tests, one McNemar on 10 discordant examples, 9 on none (same answers)
    floors = [0.0] * 20 + [mcnemar_floor(10)] + [1.0] * 9
    inside, k = tarone_family(floors)
    assert k == 21 and inside == [True] * 21 + [False] * 9
    p_values = [0.5] * 20 + [2 * 0.5**10] + [1.0] * 9
    adjusted = adjust(p_values, "holm", floors)
    assert adjusted[20] == pytest.approx(21 * 2 * 0.5**10) and adjusted[20] < 0.05
    assert adjust(p_values, "holm")[20] > 0.05  # all 30 counted: the real drop is lost
    assert all(a == 1.0 for a in adjusted[21:])
    # a test whose floor passes alpha alone but not alpha / K is left out, never significant
    inside, k = tarone_family([0.0, 0.0, 0.03])
    assert inside == [True, True, False] and k == 2
    assert adjust([0.2, 0.3, 0.03], "holm", [0.0, 0.0, 0.03])[2] == pytest.approx(0.06)
