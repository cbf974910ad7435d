"""Causal-LM builders on a random tiny Llama: magnitude and Wanda pruning, LoRA (adapter and
merged), distillation; each built once (cached), recorded, and loadable by the causal
back-end."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

import numpy as np
import torch
from transformers import LlamaForCausalLM

from joulebench.errors import VariantError
from joulebench.variants.causal_backend import CausalLM
from joulebench.variants.causal_builders import (
    build_causal_distil,
    build_causal_lora,
    build_causal_prune,
    student_of,
)
from joulebench.variants.recipe import read_record
from joulebench.variants.torch_backend import TorchClassifier
from tests.models import make_tiny_bert, make_tiny_llama, story_texts


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return make_tiny_llama(tmp_path_factory.mktemp("models") / "llama")


def _weights(folder):
    model = LlamaForCausalLM.from_pretrained(folder)
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def test_magnitude_pruning_zeroes_the_decoder_not_the_head(llama, tmp_path):
    built = build_causal_prune(llama, tmp_path, kind="magnitude", sparsity=0.5)
    assert read_record(built.path)["achieved_sparsity"] == pytest.approx(0.5, abs=0.01)
    weights = _weights(built.path)
    base = _weights(llama)
    assert torch.equal(weights["lm_head.weight"], base["lm_head.weight"])
    assert torch.equal(weights["model.embed_tokens.weight"], base["model.embed_tokens.weight"])
    # global L1: every weight dropped anywhere in the decoder is no larger than any kept one
    linear = [n for n in base if n.endswith("proj.weight")]
    dropped = torch.cat([base[n][weights[n] == 0].abs() for n in linear])
    kept = torch.cat([base[n][weights[n] != 0].abs() for n in linear])
    assert dropped.max() <= kept.min()
    again = build_causal_prune(llama, tmp_path, kind="magnitude", sparsity=0.5)
    assert again.cached and again.path == built.path
    CausalLM(built.path, name="pruned")  # loads


def test_wanda_prunes_each_output_row_by_weight_times_input_norm(llama, tmp_path):
    texts = story_texts(6)
    built = build_causal_prune(llama, tmp_path, kind="wanda", sparsity=0.25, texts=texts,
                               tokens=16)  # fmt: skip
    record = read_record(built.path)
    assert record["method"] == "prune-wanda" and record["calibration_texts"] == 6
    weights = _weights(built.path)
    for name in ("model.layers.0.mlp.down_proj.weight", "model.layers.1.self_attn.v_proj.weight"):
        w = weights[name]
        per_row = (w == 0).sum(1)
        assert torch.all(per_row == int(w.shape[1] * 0.25))  # the same share of every row
    magnitude = _weights(build_causal_prune(llama, tmp_path, kind="magnitude", sparsity=0.25).path)
    name = "model.layers.0.mlp.down_proj.weight"
    assert not torch.equal(weights[name] == 0, magnitude[name] == 0)  # the inputs count


def test_lora_merged_changes_only_q_and_v_and_scores_as_the_unmerged_adapter(llama, tmp_path):
    adapter, built = build_causal_lora(llama, tmp_path, texts=story_texts(8), steps=5, batch=2,
                                       rank=4, tokens=16, lr=1e-2)  # fmt: skip
    record = read_record(adapter.path)
    assert record["method"] == "lora" and record["trainable_params"] > 0
    assert record["final_loss"] < record["first_loss"]
    assert read_record(built.path)["method"] == "lora-merged"
    merged, base = _weights(built.path), _weights(llama)
    changed = {n for n in base if not torch.equal(merged[n], base[n])}
    assert changed and all(n.endswith(("q_proj.weight", "v_proj.weight")) for n in changed)
    assert not any("lora" in n for n in merged)
    merged_model = CausalLM(built.path, name="lora-merged")
    unmerged = CausalLM(adapter.path, name="lora-adapter", recipe={"lora_adapter": True})
    assert unmerged.info.details["size"] == "base weights + LoRA adapter (not merged)"
    assert unmerged.params > merged_model.params  # the adapter's own weights on top
    documents = story_texts(4, seed=3)
    np.testing.assert_allclose(  # the same function, computed two ways
        unmerged.document_nll(documents, 16)[0],
        merged_model.document_nll(documents, 16)[0],
        rtol=1e-4,
    )
    with pytest.raises(VariantError, match="trained on a causal language model"):
        TorchClassifier(adapter.path, name="lora-adapter", recipe={"lora_adapter": True})


def test_a_student_starts_from_evenly_spaced_teacher_layers(tmp_path):
    teacher = LlamaForCausalLM.from_pretrained(make_tiny_llama(tmp_path / "four", layers=4)).eval()
    student, kept = student_of(teacher, 2)
    assert kept == [0, 3] and student.config.num_hidden_layers == 2
    ours, theirs = student.state_dict(), teacher.state_dict()
    for index, source in enumerate(kept):
        key = "self_attn.q_proj.weight"
        assert torch.equal(ours[f"model.layers.{index}.{key}"],
                           theirs[f"model.layers.{source}.{key}"])  # fmt: skip
    assert torch.equal(ours["model.embed_tokens.weight"], theirs["model.embed_tokens.weight"])
    with pytest.raises(VariantError, match="1 to 3 layers"):
        student_of(teacher, 4)


def test_distillation_trains_a_smaller_student_that_loads(llama, tmp_path):
    built = build_causal_distil(llama, tmp_path, texts=story_texts(8), layers=1, steps=8,
                                batch=2, tokens=16, lr=1e-2)  # fmt: skip
    record = read_record(built.path)
    assert record["method"] == "distill" and record["student_layers"] == 1
    assert record["teacher_layers"] == 2 and record["final_loss"] < record["first_loss"]
    model = CausalLM(built.path, name="student")
    assert model.params < sum(p.numel() for p in _weights(llama).values())


def test_bad_builds_are_one_line(llama, tmp_path):
    with pytest.raises(VariantError, match="outside \\(0, 1\\)"):
        build_causal_prune(llama, tmp_path, kind="magnitude", sparsity=1.5)
    with pytest.raises(VariantError, match="use magnitude or wanda"):
        build_causal_prune(llama, tmp_path, kind="sparsegpt", sparsity=0.5)
    with pytest.raises(VariantError, match="calibration or training texts"):
        build_causal_prune(llama, tmp_path, kind="wanda", sparsity=0.5, texts=())
    bert = make_tiny_bert(tmp_path / "bert")
    with pytest.raises(VariantError, match="not a causal language model"):
        build_causal_prune(bert, tmp_path, kind="magnitude", sparsity=0.5)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing half-built
