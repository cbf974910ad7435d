"""ONNX Runtime back-end for generation: a model folder made by onnxruntime-genai's builder.

The folder holds ``genai_config.json``, ``model.onnx`` (+ its external data) and the tokenizer
files the builder copies (``python -m onnxruntime_genai.models.builder -i hf_folder -o out
-p fp32|int4 -e cpu``, or ``joulebench build --method onnx-genai``). Decoding is greedy with a
KV cache kept by onnxruntime-genai (it has no cache-less mode). Prompts are tokenized with the
folder's own tokenizer through transformers, so a torch variant and its ONNX export get the
very same token ids. CPU only for now: the CUDA build (``onnxruntime-genai-cuda``) is not
wired in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from joulebench.errors import VariantError
from joulebench.variants.base import VariantInfo, size_on_disk
from joulebench.variants.causal_backend import PromptLengths, document_ids

GENAI_CONFIG = "genai_config.json"
INSTALL = "pip install onnxruntime-genai"
ROTARY_TABLES = ("cos_cache", "sin_cache")


def _import(name: str) -> Any:
    try:
        import onnxruntime_genai
    except ImportError:
        raise VariantError(
            f"variant {name!r}: backend onnxruntime-genai needs onnxruntime-genai: `{INSTALL}`"
        ) from None
    return onnxruntime_genai


def read_genai_config(path: Path, name: str) -> dict[str, Any]:
    """The folder's ``genai_config.json``, or one line saying what is missing and the fix."""
    config_file = Path(path) / GENAI_CONFIG
    if not config_file.is_file():
        raise VariantError(
            f"variant {name!r}: {path} has no {GENAI_CONFIG}: backend onnxruntime-genai needs "
            "a folder made by onnxruntime-genai's model builder (`python -m "
            "onnxruntime_genai.models.builder -i MODEL -o OUT -p fp32 -e cpu`)"
        )
    try:
        return dict(json.loads(config_file.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise VariantError(
            f"variant {name!r}: cannot read {config_file} ({exc}); rebuild the folder"
        ) from None


def onnx_params(model_file: Path) -> int | None:
    """Parameters of an ONNX graph: float initializers' elements, and ``K x N`` for each
    4-bit ``MatMulNBits`` weight (whose packed initializers would undercount); the rotary
    tables the builder stores (``cos_cache``, ``sin_cache``) are constants, not weights. None
    where the graph cannot be read."""
    import onnx

    try:
        graph = onnx.load(str(model_file), load_external_data=False).graph
    except Exception:  # a corrupt or unreadable graph: the size is unknown, not 0
        return None
    packed: set[str] = set()
    total = 0
    for node in graph.node:
        if node.op_type == "MatMulNBits":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            total += int(attrs["K"]) * int(attrs["N"])
            packed.update(node.input[1:])
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16}
    for init in graph.initializer:
        if init.name.endswith(ROTARY_TABLES) or init.name in packed:
            continue
        if init.data_type in floats:
            total += int(np.prod(init.dims)) if init.dims else 1
    return total or None


class GenaiLM(PromptLengths):
    """An onnxruntime-genai model on the CPU, decoding greedily; the same methods as
    :class:`joulebench.variants.causal_backend.CausalLM`."""

    def __init__(
        self,
        path: Path,
        *,
        name: str = "variant",
        device: str = "cpu",
        threads: int | None = None,
        kv_cache: bool = True,
    ) -> None:
        og = _import(name)
        path = Path(path)
        if not device.startswith("cpu"):
            raise VariantError(
                f"variant {name!r}: the onnxruntime-genai back-end runs on the CPU here "
                f"(device {device!r} asked); use the torch back-end on {device}"
            )
        if not kv_cache:
            raise VariantError(
                f"variant {name!r}: onnxruntime-genai always decodes with a KV cache; set "
                "kv_cache = true for this task, or use the torch back-end"
            )
        genai = read_genai_config(path, name)
        model_config = genai.get("model") or {}
        self.context = model_config.get("context_length")
        decoder_file = path / str((model_config.get("decoder") or {}).get("filename", ""))
        try:
            config = og.Config(str(path))
            if threads:
                session = {"intra_op_num_threads": int(threads), "inter_op_num_threads": 1}
                config.overlay(json.dumps({"model": {"decoder": {"session_options": session}}}))
            self.model = og.Model(config)
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(path)
        except Exception as exc:  # onnxruntime-genai raises RuntimeError for every failure
            text = str(exc).strip()
            first = text.splitlines()[0] if text else type(exc).__name__
            raise VariantError(
                f"variant {name!r}: cannot load the onnxruntime-genai model in {path} "
                f"({first[:200]}); rebuild it with onnxruntime-genai's model builder"
            ) from None
        self.og = og
        self.name = name
        self.params = onnx_params(decoder_file) if decoder_file.is_file() else None
        details: dict[str, Any] = {
            "device": "cpu",
            "kv_cache": True,
            "decoding": "greedy",
            "runtime": f"onnxruntime-genai {getattr(og, '__version__', '?')}",
            "model_type": model_config.get("type"),
        }
        if threads:
            details["intra_op_threads"] = int(threads)
        self.info = VariantInfo("onnxruntime-genai", self.params, size_on_disk(path), details)

    def batches(self, ids: Sequence[Sequence[int]], batch_size: int) -> list[np.ndarray]:
        """int32 arrays of ``batch_size`` prompts (the last may be shorter)."""
        return [
            np.asarray(ids[i : i + batch_size], dtype=np.int32)
            for i in range(0, len(ids), batch_size)
        ]

    def _generator(self, batch_size: int, length: int, min_length: int = 0) -> Any:
        params = self.og.GeneratorParams(self.model)
        params.set_search_options(
            max_length=length, min_length=min_length, do_sample=False, batch_size=batch_size
        )
        return self.og.Generator(self.model, params)

    def generate(self, batch: np.ndarray, new_tokens: int) -> np.ndarray:
        """Greedy decoding of exactly ``new_tokens`` tokens for a batch of prompts; the new
        token ids (batch, new_tokens). ``append_tokens`` is the prefill, each
        ``generate_next_token`` one decode step."""
        rows, prompt = batch.shape
        length = prompt + new_tokens
        generator = self._generator(rows, length, min_length=length)
        generator.append_tokens(batch)
        while not generator.is_done():
            generator.generate_next_token()
        return np.stack([np.asarray(generator.get_sequence(i))[prompt:] for i in range(rows)])

    def texts(self, new_ids: np.ndarray) -> list[str]:
        """Generated token ids as texts."""
        return list(self.tokenizer.batch_decode(new_ids.tolist(), skip_special_tokens=True))

    def document_nll(
        self, documents: Sequence[str], ppl_tokens: int
    ) -> tuple[list[float], list[int]]:
        """Per document (cut to ``ppl_tokens`` tokens): the summed negative log-likelihood, in
        nats, of each token given those before it (the prefill's logits), and how many tokens
        were predicted."""
        from scipy.special import log_softmax

        nll: list[float] = []
        counts: list[int] = []
        for ids in document_ids(self.tokenizer, documents, ppl_tokens):
            generator = self._generator(1, len(ids))
            generator.append_tokens(np.asarray([ids], dtype=np.int32))
            logits = np.asarray(generator.get_output("logits"), dtype=np.float64)[0, :-1]
            logp = log_softmax(logits, axis=-1)
            nll.append(float(-logp[np.arange(len(ids) - 1), ids[1:]].sum()))
            counts.append(len(ids) - 1)
        return nll, counts
