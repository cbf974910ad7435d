"""Variants: loading and running a model variant (torch, onnxruntime), and building some.

Back-end libraries (torch, transformers, onnxruntime) are imported only when used.
"""

from __future__ import annotations

from joulebench.variants.base import LoadedVariant, VariantInfo, size_on_disk
from joulebench.variants.load import load_variant
from joulebench.variants.spec import VariantSpec

__all__ = ["LoadedVariant", "VariantInfo", "VariantSpec", "load_variant", "size_on_disk"]
