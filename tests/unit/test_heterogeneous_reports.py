"""Different models on one plot: families, a task's own metric, one frontier across all."""

from __future__ import annotations

import pandas as pd
import pytest

from joulebench.batteries import battery
from joulebench.errors import UserError
from joulebench.reports.axes import resolve
from joulebench.reports.points import pareto_marks, point_styles
from joulebench.reports.tables import figures_table
from joulebench.results.frame import _scores

PHONE = battery("phone")


def rows(points, *, metric="accuracy", higher=True):
    out = []
    for name, family, method, score, energy in points:
        accuracy = score if metric == "accuracy" else None
        out.append(
            {
                "run_id": "r",
                "machine": "m",
                "variant": name,
                "family": family,
                "method": method,
                "backend": "callable",
                "meter": "estimate",
                "scope": "process-cpu-time",
                "energy_method": "estimated",
                "accuracy": accuracy,
                "accuracy_ci_low": None if accuracy is None else score - 0.01,
                "accuracy_ci_high": None if accuracy is None else score + 0.01,
                "score": score,
                "score_low": score - 0.01,
                "score_high": score + 0.01,
                "score_name": metric,
                "score_higher_is_better": higher,
                "energy_j": energy,
                "energy_j_ci95": energy / 100,
                "battery": "phone",
                "inferences_per_charge": PHONE.usable_energy_j / energy,
                "inferences_per_charge_low": PHONE.usable_energy_j / (energy * 1.01),
                "inferences_per_charge_high": PHONE.usable_energy_j / (energy * 0.99),
            }
        )
    return pd.DataFrame(out)


MODELS = [
    ("cnn-8px", "cnn", "base", 0.97, 0.10),
    ("cnn-4px", "cnn", "resolution", 0.90, 0.05),
    ("mlp", "mlp", "base", 0.95, 0.01),
    ("linear", "linear", "base", 0.80, 0.02),
]


def test_the_frontier_runs_across_families():
    data = rows(MODELS)
    marks = pareto_marks(data, resolve("inferences_per_charge", data), resolve("accuracy", data))
    assert dict(zip(data["variant"], marks, strict=True)) == {
        "cnn-8px": "frontier",
        "cnn-4px": "",  # beaten by the MLP, another family
        "mlp": "frontier",
        "linear": "",
    }


def test_several_families_are_coloured_by_family_and_shaped_by_method():
    data = rows(MODELS).assign(point=lambda f: f["variant"])
    styles = point_styles(data)
    colors = {data["variant"][i]: s.color for i, s in styles.items()}
    shapes = {data["variant"][i]: s.shape for i, s in styles.items()}
    assert colors["cnn-8px"] == colors["cnn-4px"] != colors["mlp"] != colors["linear"]
    assert shapes["cnn-8px"] == shapes["mlp"] == shapes["linear"] != shapes["cnn-4px"]
    assert styles[2].legend == "mlp (mlp: base, callable)"
    one_family = data.assign(family="cnn")
    assert point_styles(one_family)[0].legend == "cnn-8px (base, callable)"  # as before


def test_the_table_has_a_family_column_and_the_tasks_own_metric():
    table = figures_table(rows(MODELS))
    assert list(table["family"]) == ["cnn", "cnn", "mlp", "linear"]
    maps = rows([(n, f, m, s * 50, e) for n, f, m, s, e in MODELS], metric="mAP")
    table = figures_table(maps)
    assert "accuracy (95% CI)" not in table and table["mAP (95% CI)"][0] == "48.50 [48.49, 48.51]"


def test_a_lower_is_better_metric_turns_the_axis_and_the_frontier():
    errors = rows([("a", "x", "base", 0.10, 0.10), ("b", "y", "base", 0.30, 0.01),
                   ("c", "z", "base", 0.20, 0.20)], metric="wer", higher=False)  # fmt: skip
    y = resolve("accuracy", errors)  # no accuracy: the task's own metric instead
    assert y.column == "score" and y.higher_is_better is False
    assert y.label == "wer (lower is better)"
    marks = pareto_marks(errors, resolve("inferences_per_charge", errors), y)
    assert list(marks) == ["frontier", "frontier", ""]  # c: worse error and more energy than a


def test_metrics_of_both_directions_in_one_report_are_refused():
    mixed = pd.concat([rows(MODELS[:2]), rows(MODELS[2:], metric="wer", higher=False)])
    mixed["accuracy"] = None
    with pytest.raises(UserError, match="mix metrics where higher is better"):
        resolve("score", mixed)


def test_score_columns_come_from_metrics_or_from_an_older_accuracy():
    accuracy = {"value": 0.9, "ci_low": 0.85, "ci_high": 0.93, "correct": 9, "n": 10}
    old = _scores({"accuracy": accuracy})
    assert (old["score"], old["score_name"], old["score_low"]) == (0.9, "accuracy", 0.85)
    new = _scores(
        {
            "accuracy": None,
            "primary_metric": "mAP",
            "metrics": {"mAP": {"name": "mAP", "value": 0.4, "ci_low": None, "ci_high": None,
                                "higher_is_better": True, "n": 5}},
        }
    )  # fmt: skip
    assert (new["score"], new["score_low"], new["score_high"]) == (0.4, 0.4, 0.4)
    assert new["top5_accuracy"] is None


def test_readings_from_another_device_take_the_family_and_the_tasks_own_metric(tmp_path):
    import json
    from pathlib import Path

    from joulebench.results.external import accuracy_sources

    reference = Path(__file__).parent.parent / "data" / "variants-v1.json"
    document = json.loads(reference.read_text())
    variant = document["measurements"][0]["variant"]
    score = {"name": "mAP", "value": 0.41, "ci_low": 0.38, "ci_high": 0.44,
             "higher_is_better": True, "n": 50}  # fmt: skip
    variant.update(accuracy=None, family="yolo", primary_metric="mAP", metrics={"mAP": score})
    (tmp_path / "run.json").write_text(json.dumps(document))
    source = accuracy_sources(tmp_path)[variant["name"]]
    assert source["family"] == "yolo" and source["metrics"]["mAP"]["value"] == 0.41


def test_two_variants_of_one_method_and_backend_are_told_apart():
    frame = pd.DataFrame(
        {"point": ["lora-merged", "lora-adapter", "base"], "method": ["lora", "lora", "base"],
         "backend": ["torch", "torch", "torch"]}
    )  # fmt: skip
    styles = point_styles(frame)
    merged, adapter, base = styles[0], styles[1], styles[2]
    assert merged.color == adapter.color != base.color  # colour says the method
    assert merged.shape != adapter.shape  # the shape tells the two LoRA variants apart


def test_log_ticks_label_only_what_fits():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from joulebench.reports.static import _log_ticks

    figure, axes = plt.subplots()
    axes.set_xscale("log")
    axes.set_xlim(450_000, 2_300_000)  # the demo's span of inferences per charge
    _log_ticks(axes.xaxis, *axes.get_xlim())
    figure.canvas.draw()
    labels = [t.get_text() for t in axes.xaxis.get_ticklabels(minor=True) if t.get_text()]
    assert "800,000" not in labels and "900,000" not in labels  # they ran into 1,000,000
    assert "500,000" in labels and "2,000,000" in labels
    plt.close(figure)
