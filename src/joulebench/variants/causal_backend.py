"""PyTorch back-end for generation: a transformers causal language model from a local folder.

The folder holds ``config.json`` and safetensors weights, or a GGUF file named by the
variant's recipe (``gguf_file``; transformers dequantizes it to fp32 with the ``gguf``
package), or a LoRA adapter (recipe ``lora_adapter``: its base with the adapter applied
through peft at every step, not merged). The quantize recipes of the classifier back-end
apply here too (``dynamic-int8`` on every Linear, ``nf4`` on the decoder's Linears). One
request is one prompt: its tokens are fixed before measuring, so the timed work is
``generate`` on token ids (no tokenisation, no decoding of the output into text).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from joulebench.errors import VariantError
from joulebench.variants.base import VariantInfo, size_on_disk
from joulebench.variants.lora import base_of, load_adapter_model
from joulebench.variants.torch_backend import (
    _import,
    apply_quantize,
    check_model_folder,
    loaded_dtype,
)


def _load_error(name: str, path: Path, exc: Exception) -> VariantError:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if "Unrecognized configuration class" in text or "AutoModelForCausalLM" in text:
        return VariantError(
            f"variant {name!r}: the model in {path} is not a causal language model "
            "(AutoModelForCausalLM cannot load it); a generation task needs a decoder "
            "(Llama, GPT-2, Qwen, ...)"
        )
    return VariantError(
        f"variant {name!r}: cannot load the causal language model in {path} ({first[:200]}); "
        "the weights may be corrupt or incomplete: re-save or re-download them"
    )


CAUSAL_HEADS = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")


def check_causal(path: Path, name: str) -> None:
    """Refuse a folder whose config names only architectures that do not generate text
    (transformers would otherwise load, say, a BERT classifier as a causal LM with a random
    head and no causal mask)."""
    from joulebench.variants.recipe import model_config

    architectures = model_config(path, f"variant {name!r}:").get("architectures") or []
    if architectures and not any(a.endswith(CAUSAL_HEADS) for a in architectures):
        raise VariantError(
            f"variant {name!r}: the model in {path} is a {architectures[0]}, not a causal "
            "language model; a generation task needs a decoder (Llama, GPT-2, Qwen, ...)"
        )


@contextlib.contextmanager
def quiet_gguf() -> Iterator[None]:
    """Hide the progress bar transformers draws (on stderr) while it dequantizes a GGUF file."""
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def context_length(config: Any) -> int | None:
    """The longest sequence the model's positions allow (None where the config says none)."""
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def refuse_lengths(
    name: str, context: int | None, prompt_tokens: int, max_new_tokens: int, ppl_tokens: int
) -> None:
    """Refuse lengths a model's ``context`` cannot hold (one line, with the fix)."""
    if context is None:
        return
    if prompt_tokens + max_new_tokens > context:
        raise VariantError(
            f"variant {name!r}: prompt_tokens {prompt_tokens} + max_new_tokens "
            f"{max_new_tokens} = {prompt_tokens + max_new_tokens} exceed its context of "
            f"{context} tokens; lower one of them"
        )
    if ppl_tokens > context:
        raise VariantError(
            f"variant {name!r}: ppl_tokens {ppl_tokens} exceed its context of {context} "
            "tokens; lower ppl_tokens"
        )


def cut_prompts(tokenizer: Any, prompts: Sequence[str], prompt_tokens: int) -> list[list[int]]:
    """Each prompt's first ``prompt_tokens`` token ids; a shorter prompt is refused."""
    encoded = tokenizer(list(prompts))["input_ids"]
    short = [(i, len(ids)) for i, ids in enumerate(encoded) if len(ids) < prompt_tokens]
    if short:
        index, count = short[0]
        raise VariantError(
            f"prompt {index + 1} has {count} tokens, fewer than prompt_tokens="
            f"{prompt_tokens} ({len(short)} prompt(s) too short); give longer prompts or "
            "lower prompt_tokens"
        )
    return [list(ids[:prompt_tokens]) for ids in encoded]


def document_ids(tokenizer: Any, documents: Sequence[str], ppl_tokens: int) -> list[list[int]]:
    """Each held-out document's first ``ppl_tokens`` token ids; one with fewer than 2 tokens
    (no prediction to score) is refused."""
    out = []
    for index, ids in enumerate(tokenizer(list(documents))["input_ids"]):
        ids = list(ids[:ppl_tokens])
        if len(ids) < 2:
            raise VariantError(
                f"held-out document {index + 1} has {len(ids)} token(s); perplexity needs "
                "at least 2: give longer documents"
            )
        out.append(ids)
    return out


class PromptLengths:
    """What every generation back-end shares: its ``name``, ``context`` (tokens, or None)
    and ``tokenizer`` fix the prompts' token ids and refuse lengths that do not fit."""

    name: str
    context: int | None
    tokenizer: Any

    def check_lengths(self, prompt_tokens: int, max_new_tokens: int, ppl_tokens: int) -> None:
        """Refuse lengths the model's context cannot hold (one line, with the fix)."""
        refuse_lengths(self.name, self.context, prompt_tokens, max_new_tokens, ppl_tokens)

    def prompt_ids(self, prompts: Sequence[str], prompt_tokens: int) -> list[list[int]]:
        """Each prompt's first ``prompt_tokens`` token ids; a shorter prompt is refused."""
        return cut_prompts(self.tokenizer, prompts, prompt_tokens)


class CausalLM(PromptLengths):
    """A transformers ``AutoModelForCausalLM`` on CPU or CUDA, decoding greedily."""

    def __init__(
        self,
        path: Path,
        *,
        name: str = "variant",
        recipe: dict[str, Any] | None = None,
        device: str = "cpu",
        trust_remote_code: bool = False,
        kv_cache: bool = True,
    ) -> None:
        torch, transformers = _import()
        path = Path(path)
        recipe = recipe or {}
        gguf_file = recipe.get("gguf_file")
        adapter = bool(recipe.get("lora_adapter"))
        options: dict[str, Any] = {"trust_remote_code": trust_remote_code}
        if adapter:  # LoRA, not merged: the base with the adapter run through peft
            if not path.is_dir():
                raise VariantError(f"variant {name!r}: adapter folder {path} does not exist")
            check_causal(base_of(path), name)
        elif gguf_file:
            if not (path / gguf_file).is_file():
                raise VariantError(
                    f"variant {name!r}: GGUF file {path / gguf_file} does not exist; fix the "
                    "variant's path or its recipe's gguf_file"
                )
            options["gguf_file"] = gguf_file
        else:
            check_model_folder(path, name)
            check_causal(path, name)
            options["use_safetensors"] = True
        try:
            with quiet_gguf() if gguf_file else contextlib.nullcontext():
                self.tokenizer = transformers.AutoTokenizer.from_pretrained(path, **options)
                if adapter:
                    model = load_adapter_model(path, transformers)
                else:
                    model = transformers.AutoModelForCausalLM.from_pretrained(path, **options)
        except VariantError:
            raise
        except ImportError as exc:
            raise VariantError(
                f"variant {name!r}: loading {path} needs a library that is missing "
                f"({exc}); for a GGUF file `pip install gguf`"
            ) from None
        except Exception as exc:  # transformers, safetensors and gguf raise their own types
            raise _load_error(name, path, exc) from None
        self.name = name
        self.context = context_length(model.config)
        self.params = sum(p.numel() for p in model.parameters())
        details: dict[str, Any] = {"device": device, "kv_cache": kv_cache, "decoding": "greedy",
                                   **loaded_dtype(model)}  # fmt: skip
        if gguf_file:
            details["gguf_file"] = gguf_file
            details["weights"] = "dequantized from the GGUF file on load"
        size_bytes = size_on_disk(path / gguf_file if gguf_file else path)
        if adapter:
            details["adapter_size_bytes"] = size_bytes
            details["size"] = "base weights + LoRA adapter (not merged)"
            size_bytes = (size_on_disk(base_of(path)) or 0) + (size_bytes or 0)
        model, size_bytes = apply_quantize(model, recipe, device, size_bytes, details, name)
        self.model = model.to(device).eval() if recipe.get("quantize") != "nf4" else model.eval()
        self.device = device
        self.kv_cache = kv_cache
        self.torch = torch
        eos = self.tokenizer.eos_token_id
        pad = self.tokenizer.pad_token_id
        # prompts are cut to one length, so nothing is ever padded: any id will do for pad
        self.pad_id = pad if pad is not None else eos if eos is not None else 0
        self.generation_config = transformers.GenerationConfig(
            do_sample=False,
            num_beams=1,
            use_cache=kv_cache,
            pad_token_id=self.pad_id,
            eos_token_id=eos,
            bos_token_id=self.tokenizer.bos_token_id,
        )
        self.info = VariantInfo("torch", self.params, size_bytes, details)

    def batches(self, ids: Sequence[Sequence[int]], batch_size: int) -> list[Any]:
        """Token-id tensors of ``batch_size`` prompts (the last may be shorter), on the device."""
        return [
            self.torch.tensor(list(ids[i : i + batch_size]), device=self.device)
            for i in range(0, len(ids), batch_size)
        ]

    def generate(self, batch: Any, new_tokens: int) -> Any:
        """Greedy decoding of exactly ``new_tokens`` tokens for a batch of prompts; the new
        token ids (batch, new_tokens)."""
        with self.torch.inference_mode():
            out = self.model.generate(
                input_ids=batch,
                attention_mask=self.torch.ones_like(batch),
                generation_config=self.generation_config,
                max_new_tokens=new_tokens,
                min_new_tokens=new_tokens,
            )
        return out[:, batch.shape[1] :]

    def texts(self, new_ids: Any) -> list[str]:
        """Generated token ids as texts."""
        return list(self.tokenizer.batch_decode(new_ids, skip_special_tokens=True))

    def document_nll(
        self, documents: Sequence[str], ppl_tokens: int
    ) -> tuple[list[float], list[int]]:
        """Per document (cut to ``ppl_tokens`` tokens): the summed negative log-likelihood, in
        nats, of each token given those before it, and how many tokens were predicted."""
        functional = self.torch.nn.functional
        nll: list[float] = []
        counts: list[int] = []
        for ids in document_ids(self.tokenizer, documents, ppl_tokens):
            tensor = self.torch.tensor([ids], device=self.device)
            with self.torch.inference_mode():
                logits = self.model(input_ids=tensor).logits[0, :-1].float()
            loss = functional.cross_entropy(logits, tensor[0, 1:], reduction="sum")
            nll.append(float(loss))
            counts.append(len(ids) - 1)
        return nll, counts
