"""PyTorch back-end: a transformers sequence classifier from a local folder (safetensors only).

torch and transformers are imported here only, when a torch variant is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from joulebench.errors import VariantError
from joulebench.variants.base import VariantInfo, cut_to_tokens, encode, size_on_disk
from joulebench.variants.hf import quiet_transformers
from joulebench.variants.lora import CAUSAL_LM, adapter_kind, base_of, load_adapter_model
from joulebench.variants.prune import STRUCTURE, load_structured
from joulebench.variants.quantize import quantize_dynamic_int8, quantize_nf4, quantized_size

DEFAULT_MAX_LENGTH = 128


def _import() -> tuple[Any, Any]:
    quiet_transformers()
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise VariantError(
            f"the torch back-end needs torch and transformers ({exc.name} is missing); "
            "`pip install 'joulebench[torch]' transformers`"
        ) from None
    return torch, transformers


def check_model_folder(path: Path, name: str) -> None:
    """Refuse a missing folder, or one without config.json and safetensors weights."""
    if not path.is_dir():
        raise VariantError(f"variant {name!r}: model folder {path} does not exist; fix its path")
    if not (path / "config.json").is_file():
        raise VariantError(f"variant {name!r}: {path} has no config.json; is it a model folder?")
    if not list(path.glob("*.safetensors")):
        raise VariantError(
            f"variant {name!r}: {path} has no .safetensors weights; joulebench loads no pickle "
            "files: re-save the model with save_pretrained() (safetensors is the default)"
        )


def loaded_dtype(model: Any) -> dict[str, str]:
    """``{"dtype": ...}``: the weights' type as loaded (before any quantize recipe); {} for a
    model without parameters."""
    weight = next(iter(model.parameters()), None)
    return {} if weight is None else {"dtype": str(weight.dtype).removeprefix("torch.")}


def apply_quantize(
    model: Any,
    recipe: dict[str, Any],
    device: str,
    size_bytes: int | None,
    details: dict[str, Any],
    name: str,
) -> tuple[Any, int | None]:
    """The model after the recipe's ``quantize`` step (``dynamic-int8`` or ``nf4``), and the
    size its weights take; ``details`` gets the kernel and the file's own size."""
    quantize = recipe.get("quantize")
    if not quantize:
        return model, size_bytes
    if quantize == "dynamic-int8":
        model, kernel = quantize_dynamic_int8(model)
    elif quantize == "nf4":
        model, kernel = quantize_nf4(model, device)
    else:
        raise VariantError(
            f"variant {name!r}: unknown quantize recipe {quantize!r}; use dynamic-int8 or nf4"
        )
    details["kernel"] = kernel
    details["file_size_bytes"] = size_bytes
    details["size"] = "quantized weights in memory (the folder holds fp32 weights)"
    return model, quantized_size(model)


class TorchClassifier:
    """A transformers ``AutoModelForSequenceClassification`` on CPU or CUDA."""

    def __init__(
        self,
        path: Path,
        *,
        name: str = "variant",
        recipe: dict[str, Any] | None = None,
        device: str = "cpu",
        max_length: int = DEFAULT_MAX_LENGTH,
        trust_remote_code: bool = False,
    ) -> None:
        torch, transformers = _import()
        path = Path(path)
        recipe = recipe or {}
        adapter = bool(recipe.get("lora_adapter"))
        if not adapter:
            check_model_folder(path, name)
        elif not path.is_dir():
            raise VariantError(f"variant {name!r}: adapter folder {path} does not exist")
        elif adapter_kind(path) == CAUSAL_LM:
            raise VariantError(
                f"variant {name!r}: the LoRA adapter in {path} was trained on a causal language "
                'model; measure it in a generation task (kind = "generate")'
            )
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                path, trust_remote_code=trust_remote_code
            )
            if adapter:  # LoRA, not merged: the base with the adapter run through peft
                model = load_adapter_model(path, transformers)
            elif (path / STRUCTURE).is_file():  # structurally pruned: per-layer shapes
                model = load_structured(path, transformers)
            else:
                model = transformers.AutoModelForSequenceClassification.from_pretrained(
                    path, use_safetensors=True, trust_remote_code=trust_remote_code
                )
        except VariantError:
            raise
        except Exception as exc:  # safetensors, tokenizers and torch raise their own types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise VariantError(
                f"variant {name!r}: cannot load the model in {path} ({first}); "
                "the weights may be corrupt or incomplete: re-save or re-download them"
            ) from None
        vocab = len(self.tokenizer)
        embeddings = model.get_input_embeddings().num_embeddings
        if vocab > embeddings:
            raise VariantError(
                f"variant {name!r}: its tokenizer has {vocab} tokens but the model only "
                f"{embeddings} embeddings: the tokenizer does not match the model"
            )
        self.params = sum(p.numel() for p in model.parameters())
        details: dict[str, Any] = {"device": device, "max_length": max_length,
                                   **loaded_dtype(model)}  # fmt: skip
        size_bytes = size_on_disk(path)
        if adapter:
            base_bytes = size_on_disk(base_of(path)) or 0
            details["adapter_size_bytes"] = size_bytes
            details["size"] = "base weights + LoRA adapter (not merged)"
            size_bytes = base_bytes + (size_bytes or 0)
        model, size_bytes = apply_quantize(model, recipe, device, size_bytes, details, name)
        quantize = recipe.get("quantize")
        self.model = model.to(device).eval() if quantize != "nf4" else model.eval()
        self.device = device
        self.max_length = max_length
        self.torch = torch
        self.info = VariantInfo("torch", self.params, size_bytes, details)

    def prepare(self, texts: Sequence[str]) -> list[str]:
        """Texts cut to their first ``max_length`` tokens' words (once, before measuring)."""
        return cut_to_tokens(self.tokenizer, texts, self.max_length)

    def logits(self, texts: Sequence[str]) -> Any:
        """Raw logits for one batch, as a numpy array (tokenisation included)."""
        encoded = encode(self.tokenizer, texts, self.max_length, "pt").to(self.device)
        with self.torch.inference_mode():
            return self.model(**encoded).logits.float().cpu().numpy()

    def predict(self, texts: Sequence[str]) -> list[int]:
        """Label indices for one batch (tokenisation included: it is part of the cost)."""
        encoded = encode(self.tokenizer, texts, self.max_length, "pt").to(self.device)
        with self.torch.inference_mode():
            logits = self.model(**encoded).logits
        return [int(i) for i in logits.argmax(-1).tolist()]
