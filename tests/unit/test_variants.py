from __future__ import annotations

import shutil

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from joulebench.errors import VariantError
from joulebench.variants import VariantSpec, load_variant
from tests.models import make_tiny_bert

TEXTS = ["good film", "bad plot and weak acting", "the music was superb", "dull"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(tmp_path_factory.mktemp("models") / "tiny")


def test_torch_variant_predicts_label_indices_and_knows_its_size(tiny):
    model = load_variant(VariantSpec(name="base", path=tiny))
    predictions = model.predict(TEXTS)
    assert len(predictions) == 4 and set(predictions) <= {0, 1}
    assert model.info.backend == "torch"
    assert 10_000 < model.info.params < 100_000
    assert model.info.size_bytes == (tiny / "model.safetensors").stat().st_size


def test_int8_recipe_quantizes_on_load_and_records_the_kernel(tiny):
    model = load_variant(
        VariantSpec(
            name="int8",
            method="int8",
            parent="base",
            path=tiny,
            recipe={"quantize": "dynamic-int8"},
        )
    )
    assert len(model.predict(TEXTS)) == 4
    assert (
        "quantize" in model.info.details["kernel"].lower()
        or "torchao" in model.info.details["kernel"]
    )


def test_missing_folder_and_pickle_only_weights_are_refused(tiny, tmp_path):
    with pytest.raises(VariantError, match="does not exist"):
        load_variant(VariantSpec(name="x", path=tmp_path / "absent"))
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny, pickled)
    (pickled / "model.safetensors").rename(pickled / "pytorch_model.bin")
    with pytest.raises(VariantError, match=r"no \.safetensors weights"):
        load_variant(VariantSpec(name="x", path=pickled))


def test_corrupt_weights_are_one_clear_error(tiny, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny, broken)
    (broken / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(VariantError, match="corrupt"):
        load_variant(VariantSpec(name="broken", path=broken))


def test_a_tokenizer_that_does_not_match_the_model_is_refused(tiny, tmp_path):
    from transformers import BertTokenizerFast

    mismatched = tmp_path / "mismatched"
    shutil.copytree(tiny, mismatched)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(500)]
    BertTokenizerFast(vocab={t: i for i, t in enumerate(tokens)}).save_pretrained(mismatched)
    with pytest.raises(VariantError, match="tokenizer does not match"):
        load_variant(VariantSpec(name="mismatched", path=mismatched))


def test_onnx_export_matches_torch_and_int8_onnx_runs(tiny, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from joulebench.variants.build import export_onnx, quantize_onnx_int8

    onnx_dir = export_onnx(tiny, tmp_path / "onnx")
    torch_model = load_variant(VariantSpec(name="base", path=tiny))
    onnx_model = load_variant(VariantSpec(name="onnx", backend="onnxruntime", path=onnx_dir))
    assert onnx_model.predict(TEXTS) == torch_model.predict(TEXTS)
    assert onnx_model.info.params == pytest.approx(torch_model.info.params, rel=0.05)
    int8_dir = quantize_onnx_int8(onnx_dir, tmp_path / "onnx-int8")
    int8 = load_variant(VariantSpec(name="onnx-int8", backend="onnxruntime", path=int8_dir))
    assert len(int8.predict(TEXTS)) == 4
    assert (int8_dir / "joulebench-variant.json").is_file()


def test_corrupt_onnx_file_is_one_clear_error(tiny, tmp_path):
    pytest.importorskip("onnxruntime")
    folder = tmp_path / "bad-onnx"
    shutil.copytree(tiny, folder)
    (folder / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(VariantError, match="cannot load"):
        load_variant(VariantSpec(name="bad", backend="onnxruntime", path=folder))


def test_student_layers_are_evenly_spaced_teacher_layers():
    from joulebench.errors import VariantError
    from joulebench.variants.distill import student_layers

    assert student_layers(6, 3) == [0, 2, 4]
    assert student_layers(12, 4) == [0, 3, 6, 9]
    assert student_layers(6, 5) == [0, 1, 2, 3, 4]
    for bad in (0, 6, 7):
        with pytest.raises(VariantError):
            student_layers(6, bad)


def test_long_texts_are_cut_before_measuring_to_the_very_same_tokens(tmp_path):
    pytest.importorskip("transformers")
    from transformers import AutoTokenizer

    from joulebench.variants.base import cut_to_tokens
    from tests.models import make_tiny_bert

    tokenizer = AutoTokenizer.from_pretrained(make_tiny_bert(tmp_path / "tiny"))
    long_text = " ".join(["the good film was very fine"] * 200)
    texts = [long_text, "a dull plot", "superb" * 40 + " music " * 50, long_text + " \t end"]
    cut = cut_to_tokens(tokenizer, texts, 16)
    assert len(cut[0]) < len(long_text) // 10  # most of the article is never tokenised again
    assert cut[1] == "a dull plot"  # short texts are left alone
    for max_length in (16,):
        before = tokenizer(texts, padding=True, truncation=True, max_length=max_length)
        after = tokenizer(cut, padding=True, truncation=True, max_length=max_length)
        assert before["input_ids"] == after["input_ids"]  # what the model sees is identical
