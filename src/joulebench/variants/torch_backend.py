"""PyTorch back-end: a transformers sequence classifier from a local folder (safetensors only).

torch and transformers are imported here only, when a torch variant is loaded.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from joulebench.errors import VariantError
from joulebench.variants.base import VariantInfo, encode, size_on_disk
from joulebench.variants.hf import quiet_transformers

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


def quantize_dynamic_int8(model: Any) -> tuple[Any, str]:
    """int8 dynamic quantization of every Linear: torch.ao where present, else torchao."""
    torch, _ = _import()
    quantization = getattr(getattr(torch, "ao", None), "quantization", None)
    if quantization is not None and hasattr(quantization, "quantize_dynamic"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", UserWarning)
            quantized = quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return (
            quantized,
            "torch.ao.quantization.quantize_dynamic (deprecated upstream, fastest on CPU)",
        )
    try:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_
    except ImportError:
        raise VariantError(
            "int8: this torch has no torch.ao.quantization.quantize_dynamic; `pip install torchao`"
        ) from None
    quantize_(model, Int8DynamicActivationInt8WeightConfig())
    return model, "torchao Int8DynamicActivationInt8WeightConfig"


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
        check_model_folder(path, name)
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                path, trust_remote_code=trust_remote_code
            )
            model = transformers.AutoModelForSequenceClassification.from_pretrained(
                path, use_safetensors=True, trust_remote_code=trust_remote_code
            )
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
        details: dict[str, Any] = {"device": device, "max_length": max_length}
        recipe = recipe or {}
        if recipe.get("quantize") == "dynamic-int8":
            model, kernel = quantize_dynamic_int8(model)
            details["kernel"] = kernel
        elif recipe.get("quantize"):
            raise VariantError(f"variant {name!r}: unknown quantize recipe {recipe['quantize']!r}")
        self.model = model.to(device).eval()
        self.device = device
        self.max_length = max_length
        self.torch = torch
        self.info = VariantInfo("torch", self.params, size_on_disk(path), details)

    def predict(self, texts: Sequence[str]) -> list[int]:
        """Label indices for one batch (tokenisation included: it is part of the cost)."""
        encoded = encode(self.tokenizer, texts, self.max_length, "pt").to(self.device)
        with self.torch.inference_mode():
            logits = self.model(**encoded).logits
        return [int(i) for i in logits.argmax(-1).tolist()]
