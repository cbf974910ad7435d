"""How each variant was built, in words, from the build record its results carry.

A record joulebench's builders wrote names the method, its hyper-parameters, the library
versions and the seed; each method's paper is cited. A variant without a record is said to be
"as given" (the base) or made outside joulebench, and no paper is cited for it: nothing says
what was done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from joulebench.reports.prose import count, join, num, percent

METHOD_LIBRARIES = {
    "base": ("torch", "transformers"),
    "distill": ("torch", "transformers"),
    "lora": ("peft", "torch", "transformers"),
    "lora-merged": ("peft", "torch", "transformers"),
    "prune-magnitude": ("torch",),
    "prune-structured": ("torch", "transformers"),
    "int8-torch": ("torch",),
    "int8-onnx": ("onnx", "onnxruntime"),
    "int8-onnx-static": ("onnx", "onnxruntime"),
    "onnx": ("onnx", "onnxruntime"),
    "nf4": ("bitsandbytes", "torchao", "torch"),
    "onnx-genai": ("onnxruntime",),
    "onnx-genai-int4": ("onnxruntime",),
}
"""The libraries of a build record worth naming for each method (the record holds them all)."""

METHOD_CITES = {
    "distill": "hinton2015",
    "lora": "hu2022",
    "lora-merged": "hu2022",
    "prune-magnitude": "han2015",
    "prune-structured": "michel2019",
    "int8-torch": "jacob2018",
    "int8-onnx": "jacob2018,onnxruntime",
    "int8-onnx-static": "jacob2018,onnxruntime",
    "onnx": "onnxruntime",
    "nf4": "dettmers2023",
    "onnx-genai": "onnxruntime",
    "onnx-genai-int4": "onnxruntime",
}


def settings_text(recipe: dict[str, Any], already: str = "") -> str:
    """``key value`` pairs of a recipe, leaving out what ``already`` says in words."""
    shown = []
    for key, value in recipe.items():
        if key == "data" or isinstance(value, dict):
            continue
        if isinstance(value, list):
            value = "/".join(str(v) for v in value)
        if len(str(value)) < 6 or str(value) not in already:  # "3" may be any "3"
            shown.append(f"{key} {value}")
    return ", ".join(shown)


def build_text(variant: dict[str, Any]) -> str:
    """How a variant was made (from its build record), citing the method's paper."""
    record = variant.get("build") or {}
    method = str(record.get("method") or variant.get("method") or "base")
    cite = METHOD_CITES.get(method, "")
    recipe = record.get("recipe") or {}
    if record.get("made_by"):  # a base model joulebench fine-tuned
        encoder = Path(str(record.get("encoder", ""))).parts[-2:]
        text = (
            f"fine-tuned from {'/'.join(encoder) or 'a pretrained encoder'} on "
            f"{record.get('train_examples', '?')} examples of {record.get('train_source', '?')} "
            f"({settings_text(record.get('settings') or {})})"
        )
    elif not record:  # nothing says which method's paper describes what was done
        text = (
            "the model as given (no build record)"
            if method == "base"
            else f"made by the method {method} outside joulebench (no build record: its "
            "hyper-parameters are not known to this report)"
        )
        if variant.get("recipe"):
            text += f"; on loading: {settings_text(variant['recipe'])}"
    else:
        described = {
            "distill": lambda: (
                f"knowledge distillation into a {recipe.get('layers')}-layer student whose "
                f"layers start from the teacher's layers "
                f"{join([str(i) for i in record.get('student_layers_from_teacher', [])])} "
                f"(of {record.get('teacher_layers', '?')})"
            ),
            "lora": lambda: (
                f"LoRA with {count(record.get('trainable_params'))} trainable parameters, "
                f"trained from {record.get('started_from', 'the parent')}"
            ),
            "lora-merged": lambda: (
                f"the LoRA adapter merged into the weights "
                f"({record.get('merged', recipe.get('merge', ''))})"
            ),
            "prune-magnitude": lambda: (
                f"{record.get('pruning', 'magnitude pruning')}, "
                f"achieved sparsity {percent(record.get('achieved_sparsity', 0))}"
            ),
            "prune-structured": lambda: str(record.get("pruning", "structured pruning")),
            "int8-torch": lambda: f"int8 dynamic quantization with {record.get('kernel', '')}",
            "int8-onnx": lambda: str(record.get("quantizer", "int8 quantization in ONNX")),
            "onnx": lambda: (
                f"exported to ONNX with {record.get('exporter', '?')} and run in ONNX Runtime"
            ),
            "nf4": lambda: f"4-bit NormalFloat (NF4) weights with {record.get('kernel', '')}",
            "onnx-genai": lambda: (
                f"exported with the {record.get('exporter', 'onnxruntime-genai model builder')} "
                "and run in ONNX Runtime with a KV cache"
            ),
            "onnx-genai-int4": lambda: (
                f"exported with the {record.get('exporter', 'onnxruntime-genai model builder')} "
                "with the decoder's MatMul weights rounded to 4 bits in blocks of 32 "
                "(MatMulNBits), run in ONNX Runtime with a KV cache"
            ),
        }
        text = described[method]() if method in described else f"method {method}"
        text += f"[[cite:{cite}]]" if cite else ""
        settings = settings_text(recipe, already=text)
        if settings:
            text += f" ({settings})"
        data = recipe.get("data") or record.get("data")
        if isinstance(data, dict) and data.get("examples"):
            text += f", on {data['examples']:,} examples of {data.get('source', '?')}"
    if variant.get("recipe", {}).get("lora_adapter"):
        text += "; measured unmerged (the adapter applied at every inference)"
    libraries = record.get("libraries") or {}
    wanted = METHOD_LIBRARIES.get(method, tuple(libraries))
    named = [f"{lib} {libraries[lib]}" for lib in wanted if libraries.get(lib)]
    if named:
        text += f"; built with {join(named)}"
    if record.get("seed") is not None and "seed" not in recipe:
        text += f", seed {record['seed']}"
    if record.get("build_s") is not None:
        text += f", in {num(record['build_s'], 2)} s"
    return text


def variant_lines(measurements: list[dict[str, Any]]) -> list[str]:
    """One line per measured variant: how it was built and how it was run."""
    lines = []
    for m in measurements:
        variant = m["variant"]
        how = build_text(variant)
        parent = f", from {variant['parent']}" if variant.get("parent") else ""
        details = variant.get("details") or {}
        run_on = [
            f"{variant.get('backend', '?')} back-end",
            f"on {variant['device']}" if variant.get("device") else "",
            f"{details['dtype']}" if details.get("dtype") else "",
            f"batch size {variant['batch_size']}" if variant.get("batch_size") else "",
            f"inputs cut to {variant['max_length']} tokens" if variant.get("max_length") else "",
        ]
        lines.append(
            f"{variant.get('name', m['label'])}{parent}: {how}. Measured with the "
            f"{', '.join(r for r in run_on if r)}."
        )
    return lines
