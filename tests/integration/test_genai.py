"""ONNX Runtime with a KV cache (onnxruntime-genai) for generation, on a random tiny Llama:
the export decodes the same tokens and scores the same perplexity as the torch model, and
every bad input is one line (the export measured in a generation task beside the torch model:
tests/integration/test_demo_llm.py)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
if importlib.util.find_spec("onnxruntime_genai") is None:
    pytest.skip("onnxruntime-genai is not installed", allow_module_level=True)

from joulebench.errors import VariantError
from joulebench.variants import VariantSpec
from joulebench.variants.causal_backend import CausalLM
from joulebench.variants.genai_backend import GenaiLM
from joulebench.variants.genai_build import build_causal_onnx, export_genai
from joulebench.variants.load import load_variant
from tests.models import make_tiny_llama, story_texts

PROMPT_TOKENS, NEW_TOKENS, PPL_TOKENS = 6, 8, 20


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    # onnxruntime-genai's attention kernel needs heads of 16: 64 wide, 4 heads
    return make_tiny_llama(tmp_path_factory.mktemp("models") / "llama", hidden=64)


@pytest.fixture(scope="module")
def exported(llama, tmp_path_factory):
    return build_causal_onnx(llama, tmp_path_factory.mktemp("builds"))


def test_the_export_decodes_the_same_tokens_and_perplexity_as_torch(llama, exported):
    assert exported.record["backend"] == "onnxruntime-genai" and not exported.cached
    torch_model = CausalLM(llama)
    onnx_model = GenaiLM(exported.path, threads=1)
    texts = story_texts(8)
    ids = torch_model.prompt_ids(texts[:4], PROMPT_TOKENS)
    assert onnx_model.prompt_ids(texts[:4], PROMPT_TOKENS) == ids  # one tokenizer, one input
    expected = torch_model.generate(torch_model.batches(ids, 4)[0], NEW_TOKENS).numpy()
    got = onnx_model.generate(onnx_model.batches(ids, 4)[0], NEW_TOKENS)
    assert got.shape == (4, NEW_TOKENS)
    np.testing.assert_array_equal(got, expected)
    assert onnx_model.generate(onnx_model.batches(ids, 4)[0], 1).shape == (4, 1)  # prefill
    torch_nll, torch_counts = torch_model.document_nll(texts[4:], PPL_TOKENS)
    onnx_nll, onnx_counts = onnx_model.document_nll(texts[4:], PPL_TOKENS)
    assert onnx_counts == torch_counts
    np.testing.assert_allclose(onnx_nll, torch_nll, rtol=1e-4)
    assert onnx_model.info.params == torch_model.params  # every weight counted once
    assert onnx_model.info.details["kv_cache"] is True
    assert build_causal_onnx(llama, exported.path.parent).cached


def test_bad_inputs_are_one_line_each(llama, tmp_path, monkeypatch):
    with pytest.raises(VariantError, match=r"genai_config\.json"):
        GenaiLM(llama)  # a transformers folder, not an export
    with pytest.raises(VariantError, match="kv_cache = true"):
        GenaiLM(tmp_path, kv_cache=False)
    with pytest.raises(VariantError, match="runs on the CPU"):
        GenaiLM(tmp_path, device="cuda:0")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "genai_config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(VariantError, match="cannot read"):
        GenaiLM(broken)
    spec = VariantSpec(name="onnx", backend="onnxruntime-genai", path=tmp_path)
    with pytest.raises(VariantError, match="generation tasks only"):
        load_variant(spec)
    import subprocess

    stderr = (
        "Traceback (most recent call last):\n  ...\n"
        "NotImplementedError: The BertModel model is not currently supported.\n"
    )

    def builder_fails(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", stderr)

    monkeypatch.setattr(subprocess, "run", builder_fails)
    with pytest.raises(VariantError, match="could not export") as caught:
        export_genai(llama, tmp_path / "out")
    assert "BertModel model is not currently supported" in str(caught.value)
    assert "\n" not in str(caught.value)
    with pytest.raises(VariantError, match="choose one of fp32, int4"):
        export_genai(llama, tmp_path / "out", precision="int3")


def test_a_missing_onnxruntime_genai_is_one_line_with_the_install(monkeypatch, llama, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime_genai", None)  # import fails
    with pytest.raises(VariantError, match="pip install onnxruntime-genai"):
        GenaiLM(tmp_path)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(VariantError, match="pip install onnxruntime-genai"):
        export_genai(llama, tmp_path / "out")
