"""Each builder on a tiny BERT made in a fixture: the output loads, predicts, and changed as it
should; builds are cached by recipe; bad input is one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from joulebench.errors import VariantError
from joulebench.tasks.data import TextDataset
from joulebench.variants.base import size_on_disk
from joulebench.variants.builders import (
    SAMPLE_TEXTS,
    build_distill,
    build_int8,
    build_lora,
    build_nf4,
    build_onnx,
    build_prune,
    spec_of,
)
from joulebench.variants.load import load_variant
from joulebench.variants.recipe import RECORD, compressed_size, read_record
from joulebench.variants.train import TrainSettings
from tests.models import make_tiny_bert

TEXTS = ["the film was good", "awful plot and weak acting", "a brilliant story", "dull"]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_tiny_bert(tmp_path_factory.mktemp("models") / "tiny-base", seed=3)


def logits(path: Path, **spec) -> np.ndarray:
    variant = load_variant(spec_of(path) if not spec else spec["spec"])
    return np.asarray(variant.logits(TEXTS + list(SAMPLE_TEXTS)))


def test_record_says_how_it_was_made_and_builds_are_cached(base, tmp_path):
    built = build_onnx(base, tmp_path)
    assert not built.cached and built.path.name.startswith("onnx-")
    record = read_record(built.path)
    for key in ("method", "parent", "recipe", "libraries", "size_bytes", "params", "build_s"):
        assert record[key] is not None, key
    assert record["libraries"]["torch"] and record["max_abs_logit_diff"] < 1e-3
    again = build_onnx(base, tmp_path)
    assert again.cached and again.path == built.path
    before = (built.path / RECORD).stat().st_mtime_ns
    forced = build_onnx(base, tmp_path, force=True)
    assert not forced.cached and (forced.path / RECORD).stat().st_mtime_ns != before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no half builds left


def test_onnx_outputs_match_torch(base, tmp_path):
    built = build_onnx(base, tmp_path, optimize=True)
    assert np.abs(logits(built.path) - logits(base)).max() < 1e-3


def test_int8_torch_has_int8_weights_and_records_its_kernel(base, tmp_path):
    built = build_int8(base, tmp_path, backend="torch")
    variant = load_variant(spec_of(built))
    kinds = {f"{type(m).__module__}.{type(m).__name__}" for m in variant.model.modules()}
    assert any("quantized" in k.lower() or "int8" in k.lower() for k in kinds), kinds
    assert "quantize_dynamic" in built.record["kernel"] or "torchao" in built.record["kernel"]
    assert built.record["quantized_size_bytes"] < built.record["size_bytes"]
    assert variant.info.size_bytes == built.record["quantized_size_bytes"]


def test_int8_onnx_has_int8_initializers(base, tmp_path):
    import onnx

    built = build_int8(base, tmp_path, backend="onnxruntime")
    model = onnx.load(str(built.path / "model.onnx"))
    assert any(t.data_type == onnx.TensorProto.INT8 for t in model.graph.initializer)
    assert load_variant(spec_of(built)).predict(TEXTS)
    assert built.record["size_bytes"] < read_record(build_onnx(base, tmp_path).path)["size_bytes"]


def test_nf4_has_4bit_weights_and_says_which_kernel_ran(base, tmp_path):
    built = build_nf4(base, tmp_path)
    variant = load_variant(spec_of(built))
    kinds = {type(m).__name__ for m in variant.model.modules()}
    assert "Linear4bit" in kinds or "Nf4Linear" in kinds, kinds
    assert "nf4" in built.record["kernel"].lower()
    assert built.record["quantized_size_bytes"] < built.record["size_bytes"]
    assert np.abs(logits(built.path) - logits(base)).max() < 0.5  # close, not equal


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_magnitude_pruning_reaches_the_sparsity_and_shrinks_only_the_compressed_file(
    base, tmp_path, scope
):
    built = build_prune(base, tmp_path, kind="magnitude", sparsity=0.5, scope=scope)
    record = built.record
    assert record["achieved_sparsity"] == pytest.approx(0.5, abs=0.01)
    assert record["nonzero_params"] < record["params"]
    # the file stays dense (as big as the base's); only its compressed form shrinks
    assert record["size_bytes"] == pytest.approx(size_on_disk(base), rel=0.01)
    assert record["compressed_size_bytes"] < compressed_size(base)
    variant = load_variant(spec_of(built))
    assert variant.predict(TEXTS)
    # the build record's figures ride along with the loaded variant into the results
    assert variant.info.details["compressed_size_bytes"] == record["compressed_size_bytes"]
    assert variant.info.details["nonzero_params"] == record["nonzero_params"]


def test_structured_pruning_removes_heads_and_neurons_and_reloads(base, tmp_path):
    built = build_prune(base, tmp_path, kind="structured", heads=0.5, ffn=0.5)
    structure = json.loads((built.path / "joulebench-structure.json").read_text())
    assert [layer["heads"] for layer in structure["layers"]] == [2, 2]  # of 4
    assert [layer["intermediate_size"] for layer in structure["layers"]] == [32, 32]  # of 64
    variant = load_variant(spec_of(built))
    layer = variant.model.base_model.encoder.layer[0]
    assert layer.attention.self.query.out_features == 16
    assert layer.intermediate.dense.out_features == 32
    assert variant.info.params < load_variant(spec_of(build_onnx(base, tmp_path))).info.params
    first, second = logits(built.path), logits(built.path)
    assert np.array_equal(first, second)  # reloads to the same model every time


def test_bad_inputs_are_one_line(base, tmp_path):
    with pytest.raises(VariantError, match=r"outside \(0, 1\)"):
        build_prune(base, tmp_path, kind="magnitude", sparsity=1.5)
    with pytest.raises(VariantError, match="needs --sparsity"):
        build_prune(base, tmp_path, kind="magnitude")
    encoder = tmp_path / "encoder"
    encoder.mkdir()
    config = json.loads((base / "config.json").read_text())
    (encoder / "config.json").write_text(json.dumps({**config, "architectures": ["BertModel"]}))
    with pytest.raises(VariantError, match="not a sequence classifier"):
        build_onnx(encoder, tmp_path)
    gpt = tmp_path / "gpt"
    gpt.mkdir()
    (gpt / "config.json").write_text(
        json.dumps({"model_type": "gpt2", "architectures": ["GPT2ForSequenceClassification"]})
    )
    with pytest.raises(VariantError, match="BERT-style encoders"):
        build_prune(gpt, tmp_path, kind="structured", heads=0.5)
    with pytest.raises(VariantError, match="does not exist"):
        build_nf4(tmp_path / "nowhere", tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_build_cli_builds_then_reuses_and_refuses_bad_input(base, tmp_path, capsys):
    from joulebench.cli.main import main

    args = ["build", "prune", "--base", str(base), "--kind", "magnitude", "--sparsity", "0.3",
            "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "prune: built" in first and "achieved_sparsity" in first
    assert main(args) == 0
    assert "reused (cached" in capsys.readouterr().out
    assert main(["build", "prune", "--base", str(base), "--sparsity", "0", "--out",
                 str(tmp_path)]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "outside (0, 1)" in err and len(err.strip().splitlines()) == 1


def toy_train(n: int = 48) -> TextDataset:
    words = ["good", "great", "brilliant", "superb", "bad", "awful", "dull", "weak"]
    texts = tuple(f"the film was {words[i % 8]} and {words[(i * 3) % 8]}" for i in range(n))
    labels = tuple(0 if i % 8 < 4 else 1 for i in range(n))
    return TextDataset(texts, labels, ("neg", "pos"), "toy")


FAST = TrainSettings(epochs=1, learning_rate=1e-3, batch_size=8, max_length=16)


def deep_bert(tmp_path_factory) -> Path:
    """A 4-layer tiny BERT (the fixture's has 2), so a student can take every other layer."""
    from transformers import BertConfig, BertForSequenceClassification

    folder = make_tiny_bert(tmp_path_factory.mktemp("deep") / "tiny-deep", seed=5)
    config = BertConfig.from_pretrained(folder)
    config.num_hidden_layers = 4
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def test_distilled_student_has_fewer_layers_copied_from_the_teacher(tmp_path_factory, tmp_path):
    import torch
    from safetensors.torch import load_file

    teacher = deep_bert(tmp_path_factory)
    built = build_distill(teacher, tmp_path, toy_train(), layers=2, settings=FAST)
    assert built.record["student_layers_from_teacher"] == [0, 2]
    student = load_variant(spec_of(built))
    assert len(student.model.base_model.encoder.layer) == 2
    assert student.predict(TEXTS)
    assert (tmp_path / ".teacher-logits").is_dir()  # offline teacher logits, cached
    # with a zero learning rate nothing trains: the student is exactly its initialisation,
    # the teacher's layers 0 and 2 (of 4), with the teacher's embeddings and classifier
    frozen = build_distill(
        teacher, tmp_path, toy_train(), layers=2, settings=TrainSettings(learning_rate=0.0)
    )
    teacher_weights = load_file(str(teacher / "model.safetensors"))
    student_weights = load_file(str(frozen.path / "model.safetensors"))
    layer = "bert.encoder.layer.{}.attention.self.query.weight"
    assert torch.equal(student_weights[layer.format(1)], teacher_weights[layer.format(2)])
    assert torch.equal(student_weights[layer.format(0)], teacher_weights[layer.format(0)])
    assert torch.equal(student_weights["classifier.weight"], teacher_weights["classifier.weight"])
    again = build_distill(teacher, tmp_path, toy_train(), layers=2, settings=FAST)
    assert again.cached
    with pytest.raises(VariantError, match="fewer than the teacher"):
        build_distill(teacher, tmp_path, toy_train(), layers=4, settings=FAST)


def test_lora_merged_has_no_adapter_left_and_matches_the_unmerged_model(base, tmp_path):
    pytest.importorskip("peft")
    adapter, merged = build_lora(base, tmp_path, toy_train(), rank=4, settings=FAST)
    assert merged is not None
    unmerged = load_variant(spec_of(adapter))
    plain = load_variant(spec_of(merged))
    assert any("lora" in n for n, _ in unmerged.model.named_modules())
    assert not any("lora" in n.lower() for n, _ in plain.model.named_modules())
    a = np.asarray(unmerged.logits(TEXTS))
    b = np.asarray(plain.logits(TEXTS))
    assert np.abs(a - b).max() < 1e-4
    assert merged.record["max_abs_logit_diff_vs_adapter"] < 1e-4
    assert unmerged.info.size_bytes > plain.info.size_bytes * 0.99  # base + adapter
    assert adapter.record["trainable_params"] > 0
    with pytest.raises(VariantError, match="rank must be a positive"):
        build_lora(base, tmp_path, toy_train(), rank=0, settings=FAST)
    with pytest.raises(VariantError, match="no such modules"):
        build_lora(base, tmp_path, toy_train(), targets=("q_proj",), settings=FAST)


def test_lora_from_a_plain_encoder_trains_a_new_head(base, tmp_path):
    pytest.importorskip("peft")
    from transformers import BertConfig, BertModel

    encoder = tmp_path / "encoder"
    config = BertConfig.from_pretrained(base)
    config.architectures = ["BertModel"]
    BertModel(config).save_pretrained(encoder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        if (base / name).is_file():
            (encoder / name).write_bytes((base / name).read_bytes())
    adapter, merged = build_lora(encoder, tmp_path / "v", toy_train(), rank=4, settings=FAST)
    assert adapter.record["started_from"].startswith("an encoder")
    a = np.asarray(load_variant(spec_of(adapter)).logits(TEXTS))
    b = np.asarray(load_variant(spec_of(merged)).logits(TEXTS))
    assert a.shape == (len(TEXTS), 2) and np.abs(a - b).max() < 1e-4


def test_a_missing_library_names_the_extra_to_install(base, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "peft", None)  # `import peft` now raises ImportError
    with pytest.raises(VariantError, match=r"joulebench\[compress\]"):
        build_lora(base, tmp_path, toy_train(), settings=FAST)
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)
    monkeypatch.setitem(sys.modules, "torchao", None)
    monkeypatch.setitem(sys.modules, "torchao.quantization", None)
    with pytest.raises(VariantError, match=r"no NF4 kernel can run on cpu.*joulebench\[compress\]"):
        build_nf4(base, tmp_path, force=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_static_onnx_int8_is_calibrated_on_the_data_and_quantizes_activations(base, tmp_path):
    import onnx

    built = build_int8(base, tmp_path, backend="onnxruntime", static=True, calibration=toy_train())
    assert built.record["calibration_examples"] == 48
    assert built.record["data"]["source"] == "toy"
    model = onnx.load(str(built.path / "model.onnx"))
    ops = {node.op_type for node in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # activations are quantized too
    assert load_variant(spec_of(built)).predict(TEXTS)
    with pytest.raises(VariantError, match="for --backend onnxruntime"):
        build_int8(base, tmp_path, backend="torch", static=True, calibration=toy_train())
