"""Variants measured end to end in spawned workers (tiny local BERT, estimate meter)."""

from __future__ import annotations

import multiprocessing
import os
import signal

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from joulebench.harness.variant_run import run_variants
from joulebench.results import load, read_document, save_variants
from joulebench.tasks import TextClassification, TextDataset
from joulebench.variants import VariantSpec
from tests.models import make_tiny_bert

FAST = {
    "meter": "estimate",
    "batch_size": 8,
    "min_window_s": 0.2,
    "windows": 3,
    "warmup_s": 0.1,
    "warmup_calls": 2,
}
WORDS = ["good", "bad", "film", "movie", "great", "awful", "plot"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture(scope="module")
def task():
    texts = tuple(f"{WORDS[i % 7]} {WORDS[(i * 3) % 7]} film" for i in range(120))
    labels = tuple(i % 2 for i in range(120))
    return TextClassification(TextDataset(texts, labels, ("neg", "pos"), "synthetic"))


def test_every_variant_gets_its_figures_and_a_broken_one_is_reported_not_fatal(
    tiny, task, tmp_path
):
    specs = [
        VariantSpec(name="base", path=tiny),
        VariantSpec(
            name="int8",
            method="int8",
            parent="base",
            path=tiny,
            recipe={"quantize": "dynamic-int8"},
        ),
        VariantSpec(name="missing", path=tmp_path / "nope"),
    ]
    run = run_variants(specs, task, **FAST)
    assert [r.spec.name for r in run.results] == ["base", "int8"]
    assert [f.name for f in run.failures] == ["missing"]
    assert "does not exist" in run.failures[0].error
    for r in run.results:
        assert r.accuracy.n == 30 and 0.0 <= r.accuracy.ci_low <= r.accuracy.value
        # latency from every batch of the energy windows: 30 texts at batch 8 = 8, 8, 8, 6
        timed = [k for w in r.energy.windows for k in w.latency_items]
        assert set(timed) <= {8, 6} and r.latency.batch_samples == timed.count(8) > 0
        assert all(w.items == sum(w.latency_items) for w in r.energy.windows)
        assert r.latency_p50_s is not None
        assert r.latency_p95_s is None or r.latency_p50_s <= r.latency_p95_s
        assert r.throughput_per_s > 0 and r.peak_rss_bytes > 50e6
        assert r.params > 10_000 and r.model_size_bytes > 0
        assert r.energy.method == "estimated"
        per_window = [w.energy_j / w.items for w in r.energy.windows]
        assert r.energy_per_inference_j.mean == pytest.approx(sum(per_window) / len(per_window))
        assert r.threads >= 1
        # the threads recorded are the worker's own, not the parent's
        assert r.energy.threads["torch_threads"] == r.threads
        assert r.inference_includes[0].startswith("tokenisation")
    assert "kernel" in run.results[1].details
    # both ran interleaved, under the same idle windows
    assert run.results[0].energy.idle_windows == run.results[1].energy.idle_windows

    path = save_variants(run, tmp_path / "results", task={"data": "synthetic"})
    frame = load(path, battery="phone")
    expected = (
        "run_id machine meter variant method backend batch_size accuracy "
        "accuracy_ci_low accuracy_ci_high energy_j energy_j_ci95 energy_method "
        "latency_p50_s latency_p95_s latency_p99_s throughput_per_s peak_rss_bytes "
        "model_size_bytes params inferences_per_charge"
    ).split()
    assert set(expected) <= set(frame.columns)
    row = frame.set_index("variant").loc["int8"]
    assert (row["method"], row["backend"], row["batch_size"]) == ("int8", "torch", 8)
    assert row["energy_j"] == pytest.approx(run.results[1].energy_per_inference_j.mean)
    assert row["inferences_per_charge"] == pytest.approx(4.5 * 3.87 * 3600 / row["energy_j"])
    assert row["energy_method"] == "estimated"
    assert read_document(path)["failures"][0]["name"] == "missing"


def test_a_worker_that_dies_mid_run_keeps_the_other_variants(tiny, task):
    killed = []

    def kill_int8(event):
        if event.kind == "window" and event.label == "base" and not killed:
            for child in multiprocessing.active_children():
                if child.name == "joulebench-int8":
                    os.kill(child.pid, signal.SIGKILL)
                    killed.append(child.pid)

    specs = [
        VariantSpec(name="base", path=tiny),
        VariantSpec(name="int8", path=tiny, recipe={"quantize": "dynamic-int8"}),
    ]
    run = run_variants(specs, task, on_event=kill_int8, **FAST)
    assert killed
    assert [r.spec.name for r in run.results] == ["base"]
    assert run.failures[0].name == "int8"
    assert "died with exit code -9" in run.failures[0].error
