"""Load a variant from its spec with the right back-end."""

from __future__ import annotations

from typing import Any

from joulebench.errors import VariantError
from joulebench.variants.base import LoadedVariant
from joulebench.variants.recipe import read_record, refresh_compressed
from joulebench.variants.spec import GENERATION_BACKENDS, VariantSpec

BUILD_FIGURES = (
    "compressed_size_bytes",
    "compressed_with",
    "nonzero_params",
    "kernel",
    "achieved_sparsity",
)
"""Figures of a built variant's record that a report shows beside what loading measures."""


def load_variant(
    spec: VariantSpec, *, device: str = "cpu", threads: int | None = None, max_length: int = 128
) -> LoadedVariant:
    """The loaded model of ``spec`` (torch or onnxruntime), with its build record's figures."""
    variant = _load(spec, device=device, threads=threads, max_length=max_length)
    if spec.path is None:
        return variant
    folder = spec.path if spec.path.is_dir() else spec.path.parent
    record = refresh_compressed(folder, read_record(folder))
    for key in BUILD_FIGURES:
        if record.get(key) is not None:
            variant.info.details.setdefault(key, record[key])
    return variant


def _load(spec: VariantSpec, *, device: str, threads: int | None, max_length: int) -> LoadedVariant:
    if spec.backend == "callable":
        from joulebench.variants.callable_backend import CallableVariant

        return CallableVariant(spec)
    assert spec.path is not None
    if spec.backend in ("torchscript", "torch-export"):
        from joulebench.variants.program_backend import TorchProgram

        return TorchProgram(spec.path, name=spec.name, backend=spec.backend, device=device)
    if spec.backend == "torch":
        from joulebench.variants.torch_backend import TorchClassifier

        return TorchClassifier(
            spec.path,
            name=spec.name,
            recipe=spec.recipe,
            device=device,
            max_length=max_length,
            trust_remote_code=spec.trust_remote_code,
        )
    if spec.backend == "onnxruntime":
        from joulebench.variants.onnx_backend import OnnxClassifier

        return OnnxClassifier(
            spec.path,
            name=spec.name,
            threads=threads,
            max_length=max_length,
            prefer_cuda=device.startswith("cuda"),
        )
    if spec.backend == "onnxruntime-genai":
        raise VariantError(
            f"variant {spec.name!r}: backend onnxruntime-genai runs generation tasks only "
            '(kind = "generate"); for a classifier use backend onnxruntime'
        )
    raise VariantError(f"variant {spec.name!r}: unknown backend {spec.backend!r}")


def load_causal(spec: VariantSpec, *, device: str, threads: int, kv_cache: bool) -> Any:
    """The causal language model of ``spec`` for a generation task: a transformers folder or
    GGUF file (backend torch) or an onnxruntime-genai folder, running on ``threads``."""
    if spec.backend not in GENERATION_BACKENDS or spec.path is None:
        raise VariantError(
            f"variant {spec.name!r}: a generation task runs causal language models with a "
            f"path and backend torch or onnxruntime-genai, not backend {spec.backend!r}"
        )
    if spec.backend == "onnxruntime-genai":
        from joulebench.variants.genai_backend import GenaiLM

        return GenaiLM(spec.path, name=spec.name, device=device, threads=threads, kv_cache=kv_cache)
    from joulebench.variants.causal_backend import CausalLM

    model = CausalLM(
        spec.path,
        name=spec.name,
        recipe=spec.recipe,
        device=device,
        trust_remote_code=spec.trust_remote_code,
        kv_cache=kv_cache,
    )
    model.torch.set_num_threads(threads)
    return model
