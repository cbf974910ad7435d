"""How workers start: a fork server with the heavy imports done once, each worker's thread
pools set to the run's threads, spawn for GPU variants."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from joulebench.harness.variant_run import run_variants
from joulebench.harness.worker import PRELOAD_ENV, SPAWN_ENV, THREAD_VARIABLES, start_method
from joulebench.tasks import TextClassification, TextDataset
from joulebench.variants import VariantSpec
from tests.models import make_tiny_bert

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork server: Linux")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(tmp_path_factory.mktemp("models") / "tiny")


def test_cpu_workers_start_from_the_fork_server_and_gpu_workers_are_spawned(monkeypatch):
    monkeypatch.delenv(SPAWN_ENV, raising=False)
    assert start_method("cuda") == start_method("cuda:1") == "spawn"
    if sys.platform.startswith("linux"):
        assert start_method("cpu") == "forkserver"
    monkeypatch.setenv(SPAWN_ENV, "1")
    assert start_method("cpu") == "spawn"


def preload_in_a_fresh_process(model_code: str) -> tuple[dict, str]:
    script = (
        "import json, os, sys; import joulebench.harness.preload as p; "
        "torch = sys.modules.get('torch'); "
        "print(json.dumps({'loaded': p.LOADED, 'threads': len(os.listdir('/proc/self/task')), "
        "'worker': 'joulebench.harness.worker' in sys.modules, 'torch': bool(torch), "
        "'cuda': bool(torch and torch.cuda.is_initialized())}))"
    )
    env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, "1"), PRELOAD_ENV: model_code}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout), done.stderr


@linux
def test_the_fork_server_imports_the_model_code_in_one_thread_and_never_touches_cuda():
    report, stderr = preload_in_a_fresh_process("1")
    assert report["loaded"] == ["torch", "transformers.modeling_utils"] and report["worker"]
    assert report["threads"] == 1  # forking a process with threads risks the child
    assert report["cuda"] is False
    assert "torchao" not in stderr and "Failed to load" not in stderr  # quietened first


@linux
def test_the_fork_server_of_other_variants_imports_only_the_worker():
    report, _ = preload_in_a_fresh_process("0")
    assert report["loaded"] == [] and report["worker"] and not report["torch"]
    assert report["threads"] == 1


@pytest.mark.parametrize(
    ("spawn", "threads"), [("0", 2), ("1", 1)], ids=["forkserver-2", "spawn-1"]
)
def test_every_thread_pool_of_a_worker_runs_the_runs_threads(tiny, monkeypatch, spawn, threads):
    # the fork server starts with one thread per pool and spawn's numpy with the machine's
    # count: each worker must set its own pools, whichever way it started. The two cases
    # where the default differs from what the run asks (a forked worker raised to 2 threads,
    # a spawned one lowered to 1; the machines CI runs on have 2 CPUs) are the ones tested
    monkeypatch.setenv(SPAWN_ENV, spawn)
    texts = tuple(f"good film {i}" if i % 2 else f"bad film {i}" for i in range(16))
    labels = tuple(i % 2 for i in range(16))
    task = TextClassification(TextDataset(texts, labels, ("n", "p"), "synthetic"))
    run = run_variants(
        [VariantSpec(name="base", path=tiny)],
        task,
        meter="estimate",
        threads=threads,
        batch_size=8,
        min_window_s=0.1,
        windows=2,
        warmup_s=0.0,
        warmup_calls=1,
    )
    assert not run.failures
    recorded = run.results[0].energy.threads
    assert recorded["torch_threads"] == threads
    assert recorded["thread_pools"] and set(recorded["thread_pools"].values()) == {threads}
    assert recorded["omp_num_threads"] == str(threads)
