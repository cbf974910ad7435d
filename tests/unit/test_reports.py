from __future__ import annotations

import math

import pandas as pd
import pytest

from joulebench.batteries import battery
from joulebench.reports.html import render_html
from joulebench.reports.pareto import pareto_mask
from joulebench.reports.tables import figures_table


def test_pareto_mask_keeps_only_undominated_points():
    xs = [1.0, 2.0, 3.0, 2.0, 0.5]
    ys = [0.9, 0.8, 0.7, 0.6, 0.95]
    assert pareto_mask(xs, ys) == [True, True, True, False, True]
    assert pareto_mask([1.0, 1.0], [0.5, 0.5]) == [True, True]  # ties dominate neither


def frame(energy_method="estimated"):
    phone = battery("phone")
    rows = []
    for name, method, backend, acc, energy in [
        ("base", "base", "torch", 0.96, 0.16),
        ("int8", "int8", "onnxruntime", 0.95, 0.06),
        ("bad", "prune", "torch", 0.90, 0.20),
    ]:
        rows.append(
            {
                "run_id": "r1",
                "variant": name,
                "method": method,
                "backend": backend,
                "meter": "estimate",
                "scope": "process-cpu-time",
                "energy_method": energy_method,
                "accuracy": acc,
                "accuracy_ci_low": acc - 0.02,
                "accuracy_ci_high": acc + 0.01,
                "energy_j": energy,
                "energy_j_ci95": energy / 10,
                "net_energy_j": energy / 2,
                "net_energy_j_ci95": energy / 20,
                "latency_p50_s": 0.1,
                "peak_rss_bytes": 6e8,
                "model_size_bytes": 9e7,
                "battery": "phone",
                "inferences_per_charge": phone.usable_energy_j / energy,
                "inferences_per_charge_low": phone.usable_energy_j / (energy * 1.1),
                "inferences_per_charge_high": phone.usable_energy_j / (energy * 0.9),
            }
        )
    return pd.DataFrame(rows)


def test_report_is_offline_names_the_frontier_and_labels_estimates():
    page = render_html(frame(), battery("phone"), "t")
    assert "<script" in page and "<script src=" not in page  # plotly inlined, nothing fetched
    assert len(page) > 1_000_000
    assert "ESTIMATED" in page and "NOT measured" in page
    assert "Pareto frontier" in page
    assert "optimistic" in page
    assert "4500 mAh at 3.87 V" in page


def test_measured_points_are_not_called_estimates():
    page = render_html(frame("counter"), battery("phone"), "t")
    assert "NOT measured" not in page


def test_figures_table_formats_intervals_and_units():
    table = figures_table(frame()).set_index("variant")
    assert table.loc["base", "accuracy (95% CI)"] == "96.0% [94.0, 97.0]"
    assert table.loc["base", "energy mJ/inference ± 95% CI"] == "160 ± 16"
    assert table.loc["base", "meter accuracy mJ"] == "not stated"  # the frame gives no bound
    with_bound = frame().assign(energy_j_systematic=lambda f: f["energy_j"] * 0.05)
    assert figures_table(with_bound).set_index("variant").loc["base", "meter accuracy mJ"] == (
        "±8.0 (5%)"
    )
    assert table.loc["int8", "size MB"] == "90.0"
    charges = table.loc["int8", "inferences per phone charge"]
    assert charges.startswith(f"{battery('phone').usable_energy_j / 0.06:,.0f}")
    assert not math.isnan(float(charges.split()[0].replace(",", "")))


@pytest.mark.parametrize("spec", ["phone", "custom:5000mAh@3.85V"])
def test_report_battery_in_subtitle(spec):
    assert battery(spec).describe().split(":")[0] in render_html(frame(), battery(spec))


def test_possibly_optimal_needs_an_interval_that_reaches_the_frontier():
    from joulebench.reports.pareto import possibly_optimal_mask

    # (value, low, high), larger is better on both axes
    xs = [(10, 9, 11), (5, 4, 6), (8, 7.5, 12), (1, 0.5, 1.5)]
    ys = [(0.9, 0.85, 0.95), (0.95, 0.9, 0.99), (0.85, 0.8, 0.93), (0.5, 0.45, 0.55)]
    # point 0 and 1 are the frontier; 2 is dominated by 0 on the means but its interval
    # overlaps 0's; 3 is beaten for sure (0's low ends exceed 3's high ends)
    assert possibly_optimal_mask(xs, ys) == [False, False, True, False]
    # with no uncertainty nothing off the frontier is possibly optimal
    exact_x = [(v, v, v) for v, _, _ in xs]
    exact_y = [(v, v, v) for v, _, _ in ys]
    assert possibly_optimal_mask(exact_x, exact_y) == [False, False, False, False]


def test_pareto_marks_turn_lower_is_better_figures_and_split_devices():
    import pandas as pd

    from joulebench.reports.axes import AXES
    from joulebench.reports.points import pareto_marks

    frame = pd.DataFrame(
        {
            "machine": ["laptop", "laptop", "laptop", "phone", "phone"],
            "variant": ["a", "b", "c", "a", "b"],
            "energy_j": [0.010, 0.020, 0.030, 0.5, 0.4],
            "energy_j_ci95": [0.001, 0.001, 0.015, 0.01, 0.01],
            "accuracy": [0.90, 0.95, 0.94, 0.90, 0.95],
            "accuracy_ci_low": [0.89, 0.94, 0.93, 0.89, 0.94],
            "accuracy_ci_high": [0.91, 0.96, 0.95, 0.91, 0.96],
        }
    )
    marks = list(pareto_marks(frame, AXES["energy_j"], AXES["accuracy"]))
    # laptop: a (least energy) and b (best accuracy) on the frontier; c costs more than b for
    # less accuracy, but its energy interval reaches b's, and its accuracy interval b's: possibly
    # phone: b uses less energy AND is more accurate: a is beaten on the means and for sure
    assert marks == ["frontier", "frontier", "possibly optimal", "", "frontier"]


def test_possibly_optimal_on_accuracy_is_decided_by_the_paired_test():
    import numpy as np

    from joulebench.reports.axes import AXES
    from joulebench.reports.points import pareto_marks
    from joulebench.tasks.metrics import accuracy
    from joulebench.tasks.outcomes import Outcomes
    from tests.paired_docs import flip

    base = np.random.default_rng(3).random(300) < 0.9
    pruned = flip(base, 12)  # wrong on 12 examples base gets right, right on none it misses
    near = flip(base, 2, seed=1)  # two answers worse: no test can tell
    rows = []
    for name, right, energy in (
        ("base", base, 0.100),
        ("pruned", pruned, 0.104),
        ("near", near, 0.104),
    ):
        acc = accuracy([int(r) for r in right], [1] * right.size)
        bits = Outcomes(right, "t" * 64).to_dict()["bits"]
        rows.append(
            {"variant": name, "energy_j": energy, "energy_j_ci95": 0.005,
             "accuracy": acc.value, "accuracy_ci_low": acc.ci_low,
             "accuracy_ci_high": acc.ci_high, "accuracy_n": acc.n, "outcomes": bits,
             "test_set": "t" * 64}
        )  # fmt: skip
    frame = pd.DataFrame(rows)
    # base dominates both on the means; the energy intervals overlap, and so do the Wilson
    # intervals of base (90%) and pruned (86%): unpaired, nothing separates them
    unpaired = frame.drop(columns=["outcomes", "test_set"])
    assert list(pareto_marks(unpaired, AXES["energy_j"], AXES["accuracy"])) == [
        "frontier", "possibly optimal", "possibly optimal"
    ]  # fmt: skip
    # paired: 12 discordant examples all one way (McNemar p = 0.0005) separate pruned; two
    # (p = 0.5) do not separate near
    marks = ["frontier", "", "possibly optimal"]
    assert list(pareto_marks(frame, AXES["energy_j"], AXES["accuracy"])) == marks
    # the same when a classifier's accuracy is plotted as its score
    scored = frame.assign(score=frame["accuracy"], score_low=frame["accuracy_ci_low"],
                          score_high=frame["accuracy_ci_high"], score_name="accuracy")  # fmt: skip
    assert list(pareto_marks(scored, AXES["energy_j"], AXES["score"])) == marks


def test_a_point_surely_dearer_at_an_accuracy_no_test_tells_apart_is_not_possibly_optimal():
    from joulebench.reports.pareto import possibly_optimal_mask

    # (value, low, high), larger is better: 1 is 4x the energy of 0 (intervals far apart) and
    # its accuracy interval overlaps 0's: 0 is significantly better on one figure, beaten
    xs = [(-37.0, -38.0, -36.0), (-139.0, -146.0, -132.0)]
    ys = [(0.957, 0.927, 0.975), (0.953, 0.923, 0.972)]
    assert possibly_optimal_mask(xs, ys) == [False, False]


def test_numbers_have_fixed_significant_digits_separators_and_no_scientific_notation():
    from joulebench.reports.numbers import plus_minus, significant

    assert significant(1234.5) == "1,230" and significant(123456789) == "123,000,000"
    assert significant(0.01234) == "0.0123" and significant(9.996) == "10.0"
    assert significant(0.5) == "0.500" and significant(-45.67, 2) == "-46"
    assert significant(12.3, sign=True) == "+12.3" and significant(0) == "0"
    assert plus_minus(334, 123) == "334 ± 120"  # was "334 ± 1.2e+02"
    assert plus_minus(1234, 56) == "1,230 ± 56"  # was "1.23e+03 ± 56"
    assert "e+" not in significant(7.5e8) and "e-" in significant(1.2e-6)  # only when tiny
