"""Pruning: unstructured magnitude pruning, and structured pruning of heads and FFN neurons.

* **Magnitude** (``torch.nn.utils.prune``, L1): the smallest weights of the encoder's Linear
  layers set to zero, globally or per layer, then made permanent. The file stays dense: it is
  smaller only once compressed, and dense kernels run no faster.
* **Structured**: whole attention heads and FFN neurons removed (the least important by the L1
  norm of their weights), with the weight matrices sliced: fewer multiply-adds, so faster.
  transformers 5 has no ``prune_heads``, and a config cannot say "this layer has 5 heads", so
  the shapes are written to ``joulebench-structure.json`` and the loader rebuilds them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from joulebench.errors import VariantError
from joulebench.variants.hf import quiet_transformers
from joulebench.variants.recipe import check_bert_like, check_sequence_classifier, copy_tokenizer

STRUCTURE = "joulebench-structure.json"


def _load(base: Path) -> Any:
    quiet_transformers()
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(base, use_safetensors=True).eval()


def _encoder_layers(model: Any) -> Any:
    return model.base_model.encoder.layer


def _check_fraction(value: float, what: str) -> float:
    if not 0 < value < 1:
        raise VariantError(f"{what} {value!r} is outside (0, 1); give a fraction such as 0.5")
    return float(value)


def magnitude_prune(
    base: Path, out: Path, *, sparsity: float, scope: str = "global"
) -> dict[str, Any]:
    """Zero the smallest ``sparsity`` of the encoder's Linear weights (L1), permanently."""
    import torch
    from torch.nn.utils import prune

    _check_fraction(sparsity, "sparsity")
    if scope not in ("global", "layer"):
        raise VariantError(f"pruning scope {scope!r}: use global or layer")
    check_sequence_classifier(base)
    model = _load(base)
    targets = [
        (module, "weight")
        for module in model.base_model.modules()
        if isinstance(module, torch.nn.Linear)
    ]
    if not targets:
        raise VariantError(f"{base} has no Linear layers in its encoder to prune")
    if scope == "global":
        prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=sparsity)
    else:
        for module, name in targets:
            prune.l1_unstructured(module, name, amount=sparsity)
    for module, name in targets:
        prune.remove(module, name)  # permanent: the mask is folded into the weight
    pruned = sum(int((m.weight == 0).sum()) for m, _ in targets)
    total = sum(m.weight.numel() for m, _ in targets)
    model.save_pretrained(out)
    copy_tokenizer(base, out)
    return {
        "pruning": "magnitude (L1, torch.nn.utils.prune), made permanent",
        "scope": scope,
        "achieved_sparsity": pruned / total,
        "pruned_weights": pruned,
        "prunable_weights": total,
    }


def _keep(scores: Any, fraction_removed: float) -> list[int]:
    """Indices to keep (sorted): the top ``1 - fraction_removed`` by score, at least one."""
    count = len(scores)
    keep = max(1, round(count * (1 - fraction_removed)))
    return sorted(int(i) for i in scores.argsort(descending=True)[:keep])


def _slice_linear(linear: Any, rows: Any = None, cols: Any = None) -> Any:
    """A new Linear holding only ``rows`` (outputs) and ``cols`` (inputs) of ``linear``."""
    import torch

    weight = linear.weight.data
    bias = linear.bias.data if linear.bias is not None else None
    if rows is not None:
        weight = weight[rows]
        bias = bias[rows] if bias is not None else None
    if cols is not None:
        weight = weight[:, cols]
    new = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    new.weight.data = weight.clone()
    if bias is not None:
        new.bias.data = bias.clone()
    return new


def structured_prune(base: Path, out: Path, *, heads: float, ffn: float) -> dict[str, Any]:
    """Remove ``heads`` of the attention heads and ``ffn`` of the FFN neurons in every layer."""
    import torch
    from safetensors.torch import save_file

    if heads:
        _check_fraction(heads, "--heads")
    if ffn:
        _check_fraction(ffn, "--ffn")
    if not heads and not ffn:
        raise VariantError("structured pruning needs --heads and/or --ffn (fractions in (0, 1))")
    config = check_sequence_classifier(base)
    check_bert_like(config, "structured pruning", base)
    model = _load(base)
    head_size = config["hidden_size"] // config["num_attention_heads"]
    layers_shape = []
    for layer in _encoder_layers(model):
        attention = layer.attention.self
        count = attention.query.out_features // head_size
        kept_heads = list(range(count))
        if heads:
            weights = torch.cat(
                [attention.query.weight, attention.key.weight, attention.value.weight], dim=1
            )
            scores = weights.abs().reshape(count, head_size, -1).sum(dim=(1, 2))
            kept_heads = _keep(scores, heads)
            rows = torch.tensor(
                [h * head_size + i for h in kept_heads for i in range(head_size)], dtype=torch.long
            )
            attention.query = _slice_linear(attention.query, rows=rows)
            attention.key = _slice_linear(attention.key, rows=rows)
            attention.value = _slice_linear(attention.value, rows=rows)
            layer.attention.output.dense = _slice_linear(layer.attention.output.dense, cols=rows)
            attention.num_attention_heads = len(kept_heads)
            attention.all_head_size = len(kept_heads) * head_size
        neurons = layer.intermediate.dense.out_features
        if ffn:
            scores = layer.intermediate.dense.weight.abs().sum(
                dim=1
            ) + layer.output.dense.weight.abs().sum(dim=0)
            kept = torch.tensor(_keep(scores, ffn), dtype=torch.long)
            layer.intermediate.dense = _slice_linear(layer.intermediate.dense, rows=kept)
            layer.output.dense = _slice_linear(layer.output.dense, cols=kept)
            neurons = len(kept)
        layers_shape.append({"heads": len(kept_heads), "intermediate_size": neurons})
    out.mkdir(parents=True, exist_ok=True)
    model.config.save_pretrained(out)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    structure = {"head_size": head_size, "layers": layers_shape}
    (out / STRUCTURE).write_text(json.dumps(structure, indent=1), encoding="utf-8")
    copy_tokenizer(base, out)
    return {
        "pruning": "structured: heads and FFN neurons removed by L1 importance, weights sliced",
        "structure": structure,
        "heads_before": config["num_attention_heads"],
        "intermediate_before": config["intermediate_size"],
    }


def load_structured(folder: Path, transformers: Any) -> Any:
    """Rebuild a structurally pruned model from its config, shapes file and weights."""
    import torch
    from safetensors.torch import load_file

    structure = json.loads((Path(folder) / STRUCTURE).read_text(encoding="utf-8"))
    config = transformers.AutoConfig.from_pretrained(folder)
    model = transformers.AutoModelForSequenceClassification.from_config(config)
    head_size = structure["head_size"]
    hidden = config.hidden_size
    for layer, shape in zip(_encoder_layers(model), structure["layers"], strict=True):
        width = shape["heads"] * head_size
        attention = layer.attention.self
        attention.query = torch.nn.Linear(hidden, width)
        attention.key = torch.nn.Linear(hidden, width)
        attention.value = torch.nn.Linear(hidden, width)
        attention.num_attention_heads, attention.all_head_size = shape["heads"], width
        layer.attention.output.dense = torch.nn.Linear(width, hidden)
        layer.intermediate.dense = torch.nn.Linear(hidden, shape["intermediate_size"])
        layer.output.dense = torch.nn.Linear(shape["intermediate_size"], hidden)
    state = {}
    for path in sorted(Path(folder).glob("*.safetensors")):
        state.update(load_file(str(path)))
    model.load_state_dict(state, strict=False)
    missing = set(model.state_dict()) - set(state)
    if any(not k.endswith("position_ids") for k in missing):
        raise VariantError(
            f"{folder}: the weights do not match {STRUCTURE} ({len(missing)} tensors missing); "
            "rebuild the variant with `joulebench build prune --force`"
        )
    return model.eval()
