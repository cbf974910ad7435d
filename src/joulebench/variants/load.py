"""Load a variant from its spec with the right back-end."""

from __future__ import annotations

from joulebench.errors import VariantError
from joulebench.variants.base import LoadedVariant
from joulebench.variants.spec import VariantSpec


def load_variant(
    spec: VariantSpec, *, device: str = "cpu", threads: int | None = None, max_length: int = 128
) -> LoadedVariant:
    """The loaded model of ``spec`` (torch or onnxruntime)."""
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
    raise VariantError(f"variant {spec.name!r}: unknown backend {spec.backend!r}")
