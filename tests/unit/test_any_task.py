"""Tasks beyond text: arrays, image folders, top-5, and the user's own metric."""

from __future__ import annotations

import math

import numpy as np
import pytest

from joulebench import tasks
from joulebench.errors import UserError
from joulebench.tasks.arrays import image_folder, load_arrays
from joulebench.tasks.classification import labels_from


def test_from_arrays_numbers_string_labels_in_sorted_order_and_scores_every_example():
    x = np.arange(12).reshape(6, 2)
    task = tasks.from_arrays(x, ["dog", "cat", "dog", "cat", "bird", "dog"])
    assert task.data.label_names == ("bird", "cat", "dog")
    assert task.data.labels == (2, 1, 2, 1, 0, 2)
    split = task.split()
    assert len(split.test) == 6 and len(split.train) == 0
    assert sorted(split.test.inputs[:, 0].tolist()) == [0, 2, 4, 6, 8, 10]


def test_from_arrays_refuses_one_label_per_input_mismatch_and_a_single_class():
    with pytest.raises(UserError, match="5 inputs but 4 labels"):
        tasks.from_arrays(np.zeros((5, 2)), [0, 1, 0, 1])
    with pytest.raises(UserError, match="only one label"):
        tasks.from_arrays(np.zeros((3, 2)), ["a", "a", "a"])
    with pytest.raises(UserError, match=r"integer labels must be 0\.\.1"):
        tasks.from_arrays(np.zeros((3, 2)), [0, 1, 5], label_names=["a", "b"])


def test_scores_give_accuracy_by_argmax_and_top5_with_its_interval():
    n, classes = 40, 10
    labels = np.arange(n) % classes
    scores = np.zeros((n, classes))
    # the true class is ranked 1st for 20 examples, 3rd for 10, 7th for 10
    for i, label in enumerate(labels):
        rank = 0 if i < 20 else 2 if i < 30 else 6
        order = [c for c in range(classes) if c != label]
        order.insert(rank, label)
        scores[i, order] = np.linspace(1.0, 0.0, classes)
    task = tasks.from_arrays(np.zeros((n, 3)), labels.tolist())
    result = task.score(scores, _in_order(task))
    assert result.accuracy.value == pytest.approx(0.5)
    top5 = result.metrics["top5_accuracy"]
    assert top5.value == pytest.approx(0.75)
    assert top5.ci_low < 0.75 < top5.ci_high
    assert result.primary.name == "accuracy"


def _in_order(task):
    """The task's examples in their original order (test_fraction 1.0 keeps every one)."""
    return task.data.subset(range(len(task.data)))


def test_label_indices_need_no_scores_and_wrong_shapes_say_what_to_return():
    predicted, scores = labels_from([0, 2, 1], 3)
    assert predicted.tolist() == [0, 2, 1] and scores is None
    with pytest.raises(UserError, match=r"shape \(3, 4\) for 3 labels; return label indices"):
        labels_from(np.zeros((3, 4)), 3)
    with pytest.raises(UserError, match=r"not a label index in 0\.\.2"):
        labels_from([0, 3, 1], 3)
    with pytest.raises(UserError, match=r"predictions like 'cat' \(str\) for 3 labels"):
        labels_from(["cat", "dog", "cat"], 3)


def _write_images(root, sizes):
    from PIL import Image

    for label, size in sizes.items():
        folder = root / label
        folder.mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", size, (40 * i, 100, 200)).save(folder / f"{i}.png")


def test_image_folder_reads_one_folder_per_class_and_resizes_on_request(tmp_path):
    _write_images(tmp_path / "ok", {"cat": (6, 5), "dog": (6, 5)})
    data = image_folder(tmp_path / "ok")
    assert data.inputs.shape == (6, 5, 6, 3) and data.inputs.dtype == np.uint8
    assert data.labels == (0, 0, 0, 1, 1, 1) and data.label_names == ("cat", "dog")
    _write_images(tmp_path / "mixed", {"cat": (6, 5), "dog": (8, 8)})
    with pytest.raises(UserError, match=r"different sizes .* give size=\(height, width\)"):
        image_folder(tmp_path / "mixed")
    assert image_folder(tmp_path / "mixed", size=(4, 4)).inputs.shape == (6, 4, 4, 3)
    task = tasks.from_images(tmp_path / "ok", test_fraction=0.5)
    assert len(task.split().test) == 3


def test_image_folder_names_the_unreadable_file_and_the_missing_classes(tmp_path):
    _write_images(tmp_path, {"cat": (4, 4), "dog": (4, 4)})
    (tmp_path / "dog" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(UserError, match=r"broken\.png cannot be read"):
        image_folder(tmp_path)
    lonely = tmp_path / "lonely"
    (lonely / "only").mkdir(parents=True)
    with pytest.raises(UserError, match="1 class folder"):
        image_folder(lonely)
    with pytest.raises(UserError, match="does not exist"):
        image_folder(tmp_path / "nowhere")


def test_npz_arrays_need_x_and_y(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, x=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]))
    assert load_arrays(good).labels == (0, 1, 0, 1)
    bad = tmp_path / "bad.npz"
    np.savez(bad, inputs=np.zeros((4, 2)), target=np.array([0, 1, 0, 1]))
    with pytest.raises(UserError, match="needs 'x' \\(inputs\\) and 'y' \\(labels\\)"):
        load_arrays(bad)


def mean_abs_error(predictions, labels):
    return float(np.mean(np.abs(np.asarray(predictions) - np.asarray(labels))))


def test_a_generic_metric_is_scored_with_its_direction_and_a_bootstrap_interval():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=200)
    task = tasks.generic(np.zeros((200, 1)), truth.tolist(), mean_abs_error, higher_is_better=False)
    test = task.split().test
    noisy = np.asarray(test.labels) + rng.normal(0, 0.5, size=len(test))
    scores = task.score(noisy.tolist(), test)
    score = scores.primary
    assert score.name == "mean_abs_error" and score.higher_is_better is False
    assert score.value == pytest.approx(mean_abs_error(noisy, test.labels))
    assert score.ci_low < score.value < score.ci_high
    assert score.ci_low > 0.3 and score.ci_high < 0.5  # E|N(0, .5)| = 0.40
    assert scores.accuracy is None
    assert task.describe()["higher_is_better"] is False


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        (lambda p, y: math.nan, "returned nan; a metric must return a finite number"),
        (lambda p, y: "high", "returned str 'high', not a number"),
        (lambda p, y: 1 / 0, "raised ZeroDivisionError"),
    ],
)
def test_a_metric_that_is_nan_not_a_number_or_raises_is_one_line(metric, message):
    task = tasks.generic([1, 2, 3], [1, 2, 3], metric)
    with pytest.raises(UserError, match=message) as info:
        task.score([1, 2, 3], task.split().test)
    assert "\n" not in str(info.value)


def test_a_generic_task_refuses_a_prediction_count_that_does_not_match():
    task = tasks.generic([1, 2, 3], [1, 2, 3], mean_abs_error, bootstrap=0)
    with pytest.raises(UserError, match="2 predictions for 3 examples"):
        task.score([1, 2], task.split().test)
    assert task.score([1, 2, 3], task.split().test).primary.ci_low is None
