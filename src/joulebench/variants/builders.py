"""``joulebench build``: each compressed variant made from a base classifier, cached by recipe.

Every builder returns a :class:`~joulebench.variants.recipe.Built` folder whose record says how
it was made; :func:`spec_of` turns it into a :class:`VariantSpec` to measure.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from joulebench.errors import VariantError
from joulebench.tasks.data import TextDataset
from joulebench.variants.recipe import (
    Built,
    build_cached,
    check_sequence_classifier,
    read_record,
)
from joulebench.variants.spec import VariantSpec
from joulebench.variants.train import DEFAULT_TRAIN, TrainSettings

SAMPLE_TEXTS = (
    "The markets rallied after the central bank held interest rates.",
    "A late goal gave the home side a deserved win.",
    "The new phone has a faster chip and a bigger battery.",
    "Parliament will vote on the bill next week.",
)
MAX_DIFF_FOR_EXPORT = 1e-3
METHOD_OF = {
    "int8-torch": "int8", "int8-onnx": "int8", "int8-onnx-static": "int8",
    "lora-merged": "lora", "lora": "lora",
}  # fmt: skip
"""Build names -> the method a report groups by (colour)."""


def _link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link a weight file where the file system allows (no second copy), else copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _copy_model(src: Path, out: Path) -> None:
    for path in Path(src).iterdir():
        if path.is_file() and path.name != "joulebench-variant.json":
            _link_or_copy(path, out / path.name)


def _logits(path: Path, recipe: dict[str, Any] | None = None, backend: str = "torch") -> Any:
    from joulebench.variants.load import load_variant

    spec = VariantSpec(name="check", path=path, backend=backend, recipe=recipe or {})  # type: ignore[arg-type]
    variant = load_variant(spec)
    return variant, np.asarray(variant.logits(list(SAMPLE_TEXTS)))


def _max_diff(
    parent: Path,
    child: Path,
    recipe: dict[str, Any] | None = None,
    backend: str = "torch",
    parent_recipe: dict[str, Any] | None = None,
) -> float:
    """Largest absolute logit difference between two variants on the sample texts."""
    _, reference = _logits(parent, parent_recipe)
    _, logits = _logits(child, recipe, backend)
    return float(np.abs(reference - logits).max())


def build_onnx(base: Path, out_root: Path, *, optimize: bool = False, force: bool = False) -> Built:
    """``torch.onnx.export`` with dynamic batch and sequence axes, checked against torch."""
    from joulebench.variants.build import export_onnx

    check_sequence_classifier(base)
    recipe = {"exporter": "torch.onnx.export", "opset": 17, "optimize": optimize}

    def make(out: Path) -> dict[str, Any]:
        export_onnx(base, out)
        details = read_record(out)
        diff = float(details["max_abs_logit_diff"])  # export_onnx checked the export itself
        if optimize:  # a rewritten graph is checked again
            optimize_onnx(out)
            diff = _max_diff(base, out, None, "onnxruntime")
        if diff > MAX_DIFF_FOR_EXPORT:
            raise VariantError(f"ONNX export of {base} differs from torch by {diff:.2g} in logits")
        return {
            "backend": "onnxruntime",
            "max_abs_logit_diff": diff,
            "exporter": details.get("exporter"),
            "graph_optimization": "onnxruntime ORT_ENABLE_ALL, saved" if optimize else None,
        }

    return build_cached("onnx", base, recipe, out_root, make, force=force)


def optimize_onnx(folder: Path) -> None:
    """Replace ``model.onnx`` with onnxruntime's fully optimised graph (ORT_ENABLE_ALL)."""
    import onnxruntime as ort

    source = folder / "model.onnx"
    optimized = folder / "model.optimized.onnx"
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(optimized)
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    optimized.replace(source)


def build_int8(
    base: Path,
    out_root: Path,
    *,
    backend: str = "torch",
    static: bool = False,
    calibration: TextDataset | None = None,
    force: bool = False,
) -> Built:
    """int8 quantization: dynamic in torch (quantized on load) or ONNX Runtime (weights int8),
    or ``static`` in ONNX Runtime (weights and activations, calibrated on ``calibration``)."""
    check_sequence_classifier(base)
    if static:
        if backend != "onnxruntime":
            raise VariantError("static int8 is for --backend onnxruntime")
        if calibration is None or len(calibration) == 0:
            raise VariantError("static int8 needs calibration data (--data)")
        return _build_static_int8(base, out_root, calibration, force=force)
    if backend == "torch":
        return _quantized_on_load(base, out_root, "int8-torch", {"quantize": "dynamic-int8"}, force)
    if backend == "onnxruntime":
        from joulebench.variants.build import export_onnx, quantize_onnx_int8

        recipe = {"quantize": "onnxruntime.quantize_dynamic QInt8", "opset": 17}

        def make_onnx(out: Path) -> dict[str, Any]:
            exported = out / "fp32"
            export_onnx(base, exported)
            quantize_onnx_int8(exported, out)
            shutil.rmtree(exported)
            return {
                "backend": "onnxruntime",
                "quantizer": "onnxruntime.quantization.quantize_dynamic (QInt8 weights)",
                "max_abs_logit_diff": _max_diff(base, out, None, "onnxruntime"),
            }

        return build_cached("int8-onnx", base, recipe, out_root, make_onnx, force=force)
    raise VariantError(f"int8 backend {backend!r}: use torch or onnxruntime")


CALIBRATION_EXAMPLES = 200


def _build_static_int8(base: Path, out_root: Path, data: TextDataset, *, force: bool) -> Built:
    from joulebench.variants.build import export_onnx, quantize_onnx_static

    texts = list(data.texts[:CALIBRATION_EXAMPLES])
    recipe = {"quantize": "onnxruntime.quantize_static QDQ int8", "calibration": len(texts),
              "data": _data(data)}  # fmt: skip

    def make(out: Path) -> dict[str, Any]:
        exported = out / "fp32"
        export_onnx(base, exported)
        extra = quantize_onnx_static(exported, out, texts)
        shutil.rmtree(exported)
        return {"backend": "onnxruntime", **extra,
                "max_abs_logit_diff": _max_diff(base, out, None, "onnxruntime")}  # fmt: skip

    return build_cached("int8-onnx-static", base, recipe, out_root, make, force=force,
                        data=_data(data))  # fmt: skip


def build_nf4(base: Path, out_root: Path, *, force: bool = False) -> Built:
    """NF4 (QLoRA's 4-bit NormalFloat) weights for the encoder, quantized on load."""
    check_sequence_classifier(base)
    return _quantized_on_load(base, out_root, "nf4", {"quantize": "nf4"}, force)


def _quantized_on_load(
    base: Path, out_root: Path, method: str, recipe: dict[str, Any], force: bool
) -> Built:
    """A torch variant whose folder holds the parent's weights and a recipe applied on load;
    built once to check it runs here, record its kernel, size and difference from the parent."""

    def make(out: Path) -> dict[str, Any]:
        _copy_model(base, out)
        variant, logits = _logits(out, recipe)
        _, reference = _logits(base)
        return {
            "backend": "torch",
            "load_recipe": recipe,
            "kernel": variant.info.details.get("kernel"),
            "quantized_size_bytes": variant.info.size_bytes,
            "max_abs_logit_diff": float(np.abs(reference - logits).max()),
            # the folder holds the parent's fp32 weights: their compressed size says nothing
            # about this variant
            "compressed_size_bytes": None,
        }

    return build_cached(method, base, recipe, out_root, make, force=force)


def build_prune(
    base: Path,
    out_root: Path,
    *,
    kind: str = "magnitude",
    sparsity: float | None = None,
    scope: str = "global",
    heads: float | None = None,
    ffn: float | None = None,
    force: bool = False,
) -> Built:
    """Magnitude (unstructured, dense file) or structured (heads/neurons sliced) pruning."""
    from joulebench.variants.prune import magnitude_prune, structured_prune

    check_sequence_classifier(base)
    if kind == "magnitude":
        if sparsity is None:
            raise VariantError("magnitude pruning needs --sparsity (a fraction in (0, 1))")
        recipe: dict[str, Any] = {"kind": "magnitude", "sparsity": sparsity, "scope": scope}

        def make(out: Path) -> dict[str, Any]:
            return {
                "backend": "torch",
                **magnitude_prune(base, out, sparsity=sparsity, scope=scope),
            }

        return build_cached("prune-magnitude", base, recipe, out_root, make, force=force)
    if kind == "structured":
        recipe = {"kind": "structured", "heads": heads or 0.0, "ffn": ffn or 0.0}

        def make_structured(out: Path) -> dict[str, Any]:
            return {
                "backend": "torch",
                **structured_prune(base, out, heads=heads or 0.0, ffn=ffn or 0.0),
            }

        return build_cached(
            "prune-structured", base, recipe, out_root, make_structured, force=force
        )
    raise VariantError(f"pruning kind {kind!r}: use magnitude or structured")


def _data(train: TextDataset) -> dict[str, Any]:
    return {"source": train.source, "examples": len(train), "labels": list(train.label_names)}


def build_distill(
    teacher: Path,
    out_root: Path,
    train: TextDataset,
    *,
    layers: int,
    temperature: float = 2.0,
    alpha: float = 0.5,
    settings: TrainSettings = DEFAULT_TRAIN,
    force: bool = False,
) -> Built:
    """A student with ``layers`` of the teacher's layers, distilled on ``train``."""
    from joulebench.variants.distill import distill

    check_sequence_classifier(teacher, "teacher")
    recipe = {
        "layers": layers, "temperature": temperature, "alpha": alpha, **asdict(settings),
        "data": _data(train),
    }  # fmt: skip

    def make(out: Path) -> dict[str, Any]:
        return distill(
            teacher, out, train, layers=layers, temperature=temperature, alpha=alpha,
            settings=settings, cache_dir=Path(out_root) / ".teacher-logits",
        )  # fmt: skip

    return build_cached("distill", teacher, recipe, out_root, make, force=force, data=_data(train))


def build_lora(
    base: Path,
    out_root: Path,
    train: TextDataset,
    *,
    rank: int = 8,
    lora_alpha: int = 16,
    dropout: float = 0.05,
    targets: tuple[str, ...] = ("query", "value"),
    settings: TrainSettings = DEFAULT_TRAIN,
    merge: bool = True,
    force: bool = False,
) -> tuple[Built, Built | None]:
    """A LoRA adapter trained on ``train`` (run unmerged) and, with ``merge``, the merged model."""
    from joulebench.variants.lora import merge_lora, train_lora

    recipe = {
        "rank": rank, "lora_alpha": lora_alpha, "dropout": dropout, "targets": list(targets),
        **asdict(settings), "data": _data(train),
    }  # fmt: skip

    def make(out: Path) -> dict[str, Any]:
        return train_lora(
            base, out, train, rank=rank, lora_alpha=lora_alpha, dropout=dropout,
            targets=targets, settings=settings,
        )  # fmt: skip

    adapter = build_cached("lora", base, recipe, out_root, make, force=force, data=_data(train))
    if not merge:
        return adapter, None

    def make_merged(out: Path) -> dict[str, Any]:
        extra = merge_lora(adapter.path, out)
        diff = _max_diff(adapter.path, out, parent_recipe={"lora_adapter": True})
        return {**extra, "max_abs_logit_diff_vs_adapter": diff}

    merged = build_cached(
        "lora-merged", adapter.path, {"merge": "merge_and_unload"}, out_root, make_merged,
        force=force, data=_data(train),
    )  # fmt: skip
    return adapter, merged


def spec_of(built: Built | Path, name: str | None = None, parent: str | None = None) -> VariantSpec:
    """The :class:`VariantSpec` to measure a built folder (backend and load recipe from it)."""
    path = built.path if isinstance(built, Built) else Path(built)
    record = read_record(path)
    if not record and not (path / "config.json").is_file():
        raise VariantError(
            f"{path} is neither a built variant (no joulebench-variant.json) nor a model folder"
        )
    method = str(record.get("method", "base"))
    return VariantSpec(
        name=name or path.name,
        method=METHOD_OF.get(method, method),
        parent=parent or Path(str(record.get("parent", ""))).name or None,
        backend=record.get("backend", "torch"),
        path=path,
        recipe=record.get("load_recipe") or {},
    )
