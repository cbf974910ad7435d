"""LoRA fine-tuning with peft, and merging the adapter back into the weights.

Two variants come out of one training run: the **adapter** (base weights + low-rank matrices,
run through peft: what you get if you do not merge) and the **merged** model
(``merge_and_unload``: a plain model with no adapter overhead). Measuring both shows what not
merging costs.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

from joulebench.errors import VariantError
from joulebench.tasks.data import TextDataset
from joulebench.variants.hf import quiet_transformers
from joulebench.variants.recipe import copy_tokenizer, model_config
from joulebench.variants.train import DEFAULT_TRAIN, TrainSettings, train_loop

ADAPTER_CONFIG = "adapter_config.json"
BASE_LINK = "joulebench-lora-base.json"
CAUSAL_LM = "causal-lm"
"""``kind`` in the link of an adapter trained on a causal language model (none: a classifier)."""


def _peft() -> Any:
    try:
        import peft
    except ImportError:
        raise VariantError(
            "LoRA needs peft, which is not installed: `pip install 'joulebench[compress]'`"
        ) from None
    return peft


def train_lora(
    base: Path,
    out: Path,
    train: TextDataset,
    *,
    rank: int = 8,
    lora_alpha: int = 16,
    dropout: float = 0.05,
    targets: tuple[str, ...] = ("query", "value"),
    settings: TrainSettings = DEFAULT_TRAIN,
) -> dict[str, Any]:
    """Train a LoRA adapter on ``base`` and save it (adapter files + tokenizer) into ``out``."""
    quiet_transformers()
    peft = _peft()
    import torch.nn.functional as F
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if rank <= 0:
        raise VariantError(f"--rank {rank}: the LoRA rank must be a positive integer")
    if not 0 <= dropout < 1:
        raise VariantError(f"--dropout {dropout}: give a fraction in [0, 1)")
    config = model_config(base)
    names = list(train.label_names)
    head = _head_options(config, names, base)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, use_safetensors=True, **head)
    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in targets if t not in present]
    if missing:
        raise VariantError(
            f"--targets {','.join(missing)}: no such modules in {base} (it has e.g. "
            f"{', '.join(sorted(n for n in present if n)[:8])})"
        )
    config = peft.LoraConfig(
        task_type=peft.TaskType.SEQ_CLS,
        r=rank,
        lora_alpha=lora_alpha,
        lora_dropout=dropout,
        target_modules=list(targets),
    )
    with warnings.catch_warnings():  # peft asks transformers for deprecated attributes
        warnings.simplefilter("ignore", FutureWarning)
        model = peft.get_peft_model(model, config)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

        def step_loss(encoded: Any, labels: Any, batch: list[int]) -> Any:
            return F.cross_entropy(model(**encoded).logits, labels)

        loss, train_s = train_loop(model, tokenizer, train, settings, step_loss)
        out.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(out)  # adapter_model.safetensors + adapter_config.json
    copy_tokenizer(base, out)
    link = {"base": str(Path(base).resolve()), "head": head}
    (out / BASE_LINK).write_text(json.dumps(link), "utf-8")
    return {
        "backend": "torch",
        "load_recipe": {"lora_adapter": True},
        "trainable_params": trainable,
        "compressed_size_bytes": None,  # the adapter alone; the variant runs base + adapter
        "started_from": "a classifier" if not head else "an encoder (new classification head)",
        "final_loss": loss,
        "train_s": round(train_s, 2),
        "train_settings": asdict(settings),
    }


def _head_options(config: dict[str, Any], names: list[str], base: Path) -> dict[str, Any]:
    """{} for a classifier with the data's labels; a new head's labels for a plain encoder."""
    architectures = config.get("architectures") or []
    if any(str(a).endswith("ForSequenceClassification") for a in architectures):
        labels = len(config.get("id2label") or {})
        if labels and labels != len(names):
            raise VariantError(
                f"{base} classifies {labels} labels but the data has {len(names)}; "
                "train on the data it was made for, or start from its encoder"
            )
        return {}
    if config.get("model_type") is None:
        raise VariantError(f"{base} is not a transformers model (config.json has no model_type)")
    return {
        "num_labels": len(names),
        "id2label": dict(enumerate(names)),
        "label2id": {n: i for i, n in enumerate(names)},
    }


def _link(adapter: Path) -> dict[str, Any]:
    link = Path(adapter) / BASE_LINK
    try:
        data: dict[str, Any] = json.loads(link.read_text("utf-8"))
        if "base" not in data:
            raise KeyError("base")
        return data
    except (OSError, ValueError, KeyError):
        raise VariantError(
            f"{adapter} is not a joulebench LoRA adapter (no {BASE_LINK}); build it with "
            "`joulebench build lora`"
        ) from None


def adapter_kind(adapter: Path) -> str | None:
    """What the adapter was trained on: :data:`CAUSAL_LM`, or None (a classifier)."""
    kind = _link(adapter).get("kind")
    return str(kind) if kind else None


def base_of(adapter: Path) -> Path:
    """The base model folder an adapter was trained on."""
    return Path(_link(adapter)["base"])


def load_adapter_model(adapter: Path, transformers: Any) -> Any:
    """The base model with the adapter applied through peft (not merged)."""
    peft = _peft()
    link = _link(adapter)
    base = Path(link["base"])
    if not base.is_dir():
        raise VariantError(f"the LoRA adapter {adapter} needs its base {base}, which is gone")
    if link.get("kind") == CAUSAL_LM:
        model = transformers.AutoModelForCausalLM.from_pretrained(base, use_safetensors=True)
    else:
        head = link.get("head") or {}
        if head.get("id2label"):
            head = {**head, "id2label": {int(k): v for k, v in head["id2label"].items()}}
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            base, use_safetensors=True, **head
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return peft.PeftModel.from_pretrained(model, adapter).eval()


def merge_lora(adapter: Path, out: Path) -> dict[str, Any]:
    """``merge_and_unload`` the adapter into its base and save a plain model into ``out``."""
    quiet_transformers()
    import transformers

    model = load_adapter_model(adapter, transformers).merge_and_unload()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    copy_tokenizer(adapter, out)
    leftover = [n for n, _ in model.named_modules() if "lora" in n.lower()]
    if leftover:
        raise VariantError(f"merging left LoRA modules behind ({leftover[0]}, ...)")
    return {"backend": "torch", "merged": "peft merge_and_unload"}
