"""Making variants from a base model folder: ONNX export and ONNX Runtime int8.

(The torch int8 variant is made on load from its parent's weights: see ``recipe``.) Each
builder writes a folder with the model, the tokenizer and ``joulebench-variant.json`` saying
how it was made. More builders (distillation, LoRA, pruning, NF4) come with issue 4.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from joulebench.errors import VariantError
from joulebench.variants.hf import QuietRootLogger, quiet_transformers
from joulebench.variants.onnx_backend import MODEL_FILE
from joulebench.variants.torch_backend import check_model_folder

RECORD = "joulebench-variant.json"
OPSET = 17
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
    "config.json",
)


def _record(out: Path, record: dict[str, Any]) -> None:
    (out / RECORD).write_text(json.dumps(record, indent=1))


def _copy_tokenizer(src: Path, out: Path) -> None:
    for name in TOKENIZER_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, out / name)


def export_onnx(src: Path, out: Path, *, max_length: int = 128) -> Path:
    """Export a transformers classifier folder to ``out/model.onnx`` and check it matches."""
    quiet_transformers()
    import onnxruntime as ort
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    src, out = Path(src), Path(out)
    check_model_folder(src, src.name)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(src)
    model = AutoModelForSequenceClassification.from_pretrained(src, use_safetensors=True).eval()
    sample = tokenizer(
        ["a short example", "another, somewhat longer example text"],
        padding=True,
        truncation=True,
        max_length=max_length,
        return_tensors="pt",
    )
    names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in sample]
    axes = {k: {0: "batch", 1: "sequence"} for k in names} | {"logits": {0: "batch"}}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                tuple(sample[k] for k in names),
                str(out / MODEL_FILE),
                input_names=names,
                output_names=["logits"],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
    except Exception as exc:  # the exporter raises many unrelated types
        raise VariantError(
            f"ONNX export of {src} failed ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
            "this architecture may need `dynamo=True` or a newer torch"
        ) from None
    _copy_tokenizer(src, out)
    session = ort.InferenceSession(str(out / MODEL_FILE), providers=["CPUExecutionProvider"])
    (onnx_logits,) = session.run(None, {k: sample[k].numpy() for k in names})[:1]
    with torch.inference_mode():
        torch_logits = model(**sample).logits.numpy()
    max_diff = float(np.abs(onnx_logits - torch_logits).max())
    if max_diff > 1e-3:
        raise VariantError(f"ONNX export of {src} differs from torch by {max_diff:.2g} in logits")
    _record(
        out,
        {
            "method": "onnx",
            "parent": str(src),
            "exporter": "torch.onnx.export (TorchScript)",
            "opset": OPSET,
            "max_abs_logit_diff": max_diff,
        },
    )
    return out


def quantize_onnx_int8(src: Path, out: Path) -> Path:
    """ONNX Runtime dynamic quantization (int8 weights) of ``src/model.onnx`` into ``out``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src, out = Path(src), Path(out)
    if not (src / MODEL_FILE).is_file():
        raise VariantError(f"no {MODEL_FILE} in {src}; export the ONNX variant first")
    out.mkdir(parents=True, exist_ok=True)
    with QuietRootLogger():  # "consider pre-processing": advice for static quantization
        quantize_dynamic(str(src / MODEL_FILE), str(out / MODEL_FILE), weight_type=QuantType.QInt8)
    _copy_tokenizer(src, out)
    _record(
        out,
        {
            "method": "int8",
            "parent": str(src),
            "quantizer": "onnxruntime.quantization.quantize_dynamic QInt8",
        },
    )
    return out


def quantize_onnx_static(
    src: Path, out: Path, texts: list[str], *, max_length: int = 128, batch_size: int = 16
) -> dict[str, Any]:
    """ONNX Runtime static int8 (QDQ, weights and activations), calibrated on ``texts``."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from transformers import AutoTokenizer

    src, out = Path(src), Path(out)
    if not (src / MODEL_FILE).is_file():
        raise VariantError(f"no {MODEL_FILE} in {src}; export the ONNX variant first")
    if not texts:
        raise VariantError("static int8 needs calibration texts (--data)")
    tokenizer = AutoTokenizer.from_pretrained(src)
    import onnx

    names = [i.name for i in onnx.load(str(src / MODEL_FILE), load_external_data=False).graph.input]

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.batches = iter(range(0, len(texts), batch_size))

        def get_next(self) -> dict[str, Any] | None:
            start = next(self.batches, None)
            if start is None:
                return None
            encoded = tokenizer(
                texts[start : start + batch_size], padding=True, truncation=True,
                max_length=max_length, return_tensors="np",
            )  # fmt: skip
            return {k: np.asarray(encoded[k], dtype=np.int64) for k in names}

    out.mkdir(parents=True, exist_ok=True)
    with QuietRootLogger():
        quantize_static(
            str(src / MODEL_FILE), str(out / MODEL_FILE), Reader(),
            quant_format=QuantFormat.QDQ, activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
        )  # fmt: skip
    _copy_tokenizer(src, out)
    return {"quantizer": "onnxruntime.quantization.quantize_static (QDQ, int8 weights and "
            "activations, MinMax calibration)", "calibration_examples": len(texts)}  # fmt: skip
