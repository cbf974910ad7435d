"""Builders for causal language models: pruning (magnitude, Wanda), LoRA merged, and a GGUF
file turned into a safetensors folder. Each writes a folder with its build record
(``variants.recipe``), cached by recipe; int8 and NF4 need no build (load recipes).

* **Magnitude**: the smallest weights of the decoder's Linear layers (not the embeddings, not
  the output head) set to zero, globally (L1, ``torch.nn.utils.prune``).
* **Wanda** (Sun et al., 2024): each weight scored by ``|W_ij| x ||X_j||_2``, the norm of its
  input feature over a few calibration texts, and the lowest-scored ``sparsity`` of every
  output row set to zero (Wanda's per-output comparison group). No retraining.
* **Distillation** (Hinton et al., 2015): a student with fewer decoder layers, initialised
  from evenly spaced layers of the teacher, trained on the teacher's softened next-token
  distributions and the text itself.
* **LoRA**: low-rank adapters on the attention's query and value projections (peft), trained
  with the causal-LM loss on the task's training texts; kept as an adapter (run unmerged,
  base + adapter at every step) and ``merge_and_unload``-ed into plain weights.

Like unstructured pruning of a classifier, pruned files stay dense: smaller once compressed,
no faster with dense kernels.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from joulebench.errors import VariantError
from joulebench.variants.causal_backend import check_causal, quiet_gguf
from joulebench.variants.hf import quiet_transformers
from joulebench.variants.recipe import Built, build_cached, copy_tokenizer

LORA_TARGETS = ("q_proj", "v_proj")


def _load(base: Path) -> tuple[Any, Any]:
    quiet_transformers()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_causal(Path(base), "base")
    try:
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForCausalLM.from_pretrained(base, use_safetensors=True)
    except OSError as exc:
        raise VariantError(f"base {base}: cannot load a causal LM from it ({exc})") from None
    return model.eval(), tokenizer


def _decoder_linears(model: Any) -> list[tuple[str, Any]]:
    """Every Linear of the decoder: not the output head (often tied to the embeddings)."""
    import torch

    head = model.get_output_embeddings()
    found = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and module is not head
    ]
    if not found:
        raise VariantError("the model has no Linear layers in its decoder to prune")
    return found


def _check_sparsity(sparsity: float) -> float:
    if not 0 < sparsity < 1:
        raise VariantError(f"sparsity {sparsity!r} is outside (0, 1); give a fraction such as 0.3")
    return float(sparsity)


def _encoded(tokenizer: Any, texts: Sequence[str], tokens: int) -> list[Any]:
    import torch

    if not texts:
        raise VariantError("this build needs calibration or training texts; give some")
    ids = [tokenizer(t)["input_ids"][:tokens] for t in texts]
    return [torch.tensor([i]) for i in ids if len(i) >= 2]


def _save(model: Any, base: Path, out: Path) -> None:
    model.save_pretrained(out)
    copy_tokenizer(base, out)


def _sparsity(linears: list[tuple[str, Any]]) -> dict[str, Any]:
    zeros = sum(int((m.weight == 0).sum()) for _, m in linears)
    total = sum(m.weight.numel() for _, m in linears)
    return {"achieved_sparsity": zeros / total, "pruned_weights": zeros, "prunable_weights": total}


def magnitude_prune_causal(base: Path, out: Path, *, sparsity: float) -> dict[str, Any]:
    """Zero the smallest ``sparsity`` of the decoder's Linear weights (global L1)."""
    from torch.nn.utils import prune

    _check_sparsity(sparsity)
    model, _ = _load(base)
    linears = _decoder_linears(model)
    targets = [(module, "weight") for _, module in linears]
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=sparsity)
    for module, name in targets:
        prune.remove(module, name)
    _save(model, base, out)
    return {"pruning": "magnitude (L1, global over the decoder's Linears)", **_sparsity(linears)}


def wanda_prune(
    base: Path, out: Path, *, sparsity: float, texts: Sequence[str], tokens: int = 128
) -> dict[str, Any]:
    """Wanda: zero, in every output row, the ``sparsity`` of weights with the lowest
    ``|W_ij| x ||X_j||_2`` (input-feature norms over ``texts``, each cut to ``tokens``)."""
    import torch

    _check_sparsity(sparsity)
    model, tokenizer = _load(base)
    linears = _decoder_linears(model)
    squares = {name: torch.zeros(m.in_features, dtype=torch.float64) for name, m in linears}

    def hook(name: str) -> Any:
        def record(_: Any, inputs: tuple[Any, ...], __: Any) -> None:
            x = inputs[0].detach().reshape(-1, inputs[0].shape[-1]).double()
            squares[name] += (x * x).sum(0)

        return record

    handles = [m.register_forward_hook(hook(name)) for name, m in linears]
    try:
        with torch.inference_mode():
            for ids in _encoded(tokenizer, texts, tokens):
                model(input_ids=ids)
    finally:
        for handle in handles:
            handle.remove()
    with torch.no_grad():
        for name, module in linears:
            score = module.weight.abs().double() * squares[name].sqrt()[None, :]
            drop = int(module.in_features * sparsity)
            if drop:
                lowest = torch.topk(score, drop, dim=1, largest=False).indices
                module.weight.scatter_(1, lowest, 0.0)
    _save(model, base, out)
    return {
        "pruning": "Wanda: |W| x input-feature norm, lowest per output row",
        "calibration_texts": len(texts),
        "calibration_tokens": tokens,
        **_sparsity(linears),
    }


def lora_adapter(
    base: Path,
    out: Path,
    *,
    texts: Sequence[str],
    rank: int = 8,
    alpha: int = 16,
    steps: int = 30,
    batch: int = 4,
    lr: float = 5e-4,
    tokens: int = 128,
    seed: int = 0,
) -> dict[str, Any]:
    """Train LoRA adapters (query and value projections) with the causal-LM loss on
    ``texts`` (all cut to the shortest one's length, at most ``tokens``, so a batch needs no
    padding) and save the adapter (not merged) with a link to ``base``."""
    import json
    import time

    import torch

    from joulebench.variants.lora import BASE_LINK, CAUSAL_LM

    try:
        import peft
    except ImportError:
        raise VariantError("LoRA needs peft: `pip install 'joulebench[compress]'`") from None
    if rank <= 0 or steps <= 0 or batch <= 0:
        raise VariantError(f"LoRA needs rank, steps and batch > 0; got {rank}, {steps}, {batch}")
    torch.manual_seed(seed)
    model, tokenizer = _load(base)
    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    if not set(LORA_TARGETS) <= present:
        raise VariantError(
            f"LoRA targets {', '.join(LORA_TARGETS)} are not modules of {base}; this builder "
            "knows Llama-style attention (Llama, Mistral, Qwen, SmolLM)"
        )
    config = peft.LoraConfig(
        task_type=peft.TaskType.CAUSAL_LM,
        r=rank,
        lora_alpha=alpha,
        lora_dropout=0.0,
        target_modules=list(LORA_TARGETS),
    )
    encoded = _encoded(tokenizer, texts, tokens)
    length = min(len(ids[0]) for ids in encoded)
    rows = torch.cat([ids[:, :length] for ids in encoded])  # one length: batches without pads
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = peft.get_peft_model(model, config)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
        model.train()
        losses = []
        for _ in range(steps):
            picks = rows[torch.randint(len(rows), (batch,), generator=generator)]
            loss = model(input_ids=picks, labels=picks).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        model.save_pretrained(out)  # adapter_model.safetensors + adapter_config.json
    copy_tokenizer(base, out)
    link = {"base": str(Path(base).resolve()), "kind": CAUSAL_LM}
    (Path(out) / BASE_LINK).write_text(json.dumps(link), "utf-8")
    return {
        "backend": "torch",
        "load_recipe": {"lora_adapter": True},
        "sequence_tokens": length,
        "trainable_params": trainable,
        "compressed_size_bytes": None,  # the adapter alone; the variant runs base + adapter
        "first_loss": losses[0],
        "final_loss": sum(losses[-5:]) / len(losses[-5:]),
        "train_s": round(time.perf_counter() - start, 2),
    }


def merge_causal(adapter: Path, out: Path) -> dict[str, Any]:
    """The adapter ``merge_and_unload``-ed into its base, saved as a plain model."""
    quiet_transformers()
    import transformers

    from joulebench.variants.lora import base_of, load_adapter_model

    merged = load_adapter_model(adapter, transformers).merge_and_unload().eval()
    leftover = [n for n, _ in merged.named_modules() if "lora" in n.lower()]
    if leftover:
        raise VariantError(f"merging left LoRA modules behind ({leftover[0]}, ...)")
    _save(merged, base_of(adapter), out)
    return {"backend": "torch", "merged": "peft merge_and_unload"}


def student_of(teacher: Any, layers: int) -> tuple[Any, list[int]]:
    """A student with ``layers`` decoder layers, initialised from evenly spaced layers of
    ``teacher`` (and its embeddings, final norm and head); the teacher's layers it took."""
    import copy

    import torch
    from transformers import AutoModelForCausalLM

    total = getattr(teacher.config, "num_hidden_layers", None)
    if not isinstance(total, int) or not hasattr(getattr(teacher, "model", None), "layers"):
        raise VariantError(
            "distillation knows Llama-style decoders (model.layers, num_hidden_layers); this "
            "model has another layout"
        )
    if not 1 <= layers < total:
        raise VariantError(f"a student needs 1 to {total - 1} layers (the teacher has {total})")
    kept = sorted({round(i * (total - 1) / max(layers - 1, 1)) for i in range(layers)})
    config = copy.deepcopy(teacher.config)
    config.num_hidden_layers = layers
    for key in ("layer_types",):  # per-layer lists some configs carry
        value = getattr(config, key, None)
        if isinstance(value, list) and len(value) == total:
            setattr(config, key, [value[j] for j in kept])
    student = AutoModelForCausalLM.from_config(config)
    source = teacher.state_dict()
    mapped = {}
    for key in student.state_dict():
        if key.startswith("model.layers."):
            index, rest = key.removeprefix("model.layers.").split(".", 1)
            mapped[key] = source[f"model.layers.{kept[int(index)]}.{rest}"]
        else:
            mapped[key] = source[key]
    with torch.no_grad():
        student.load_state_dict(mapped)
    return student, kept


def distil_causal(
    base: Path,
    out: Path,
    *,
    texts: Sequence[str],
    layers: int,
    steps: int = 30,
    batch: int = 4,
    lr: float = 1e-4,
    temperature: float = 2.0,
    alpha: float = 0.5,
    tokens: int = 128,
    seed: int = 0,
) -> dict[str, Any]:
    """Knowledge distillation into a student with fewer layers: the loss is ``alpha`` x KL
    between the teacher's and the student's next-token distributions softened by
    ``temperature`` (times T^2, as Hinton et al.) + (1 - ``alpha``) x the causal-LM loss."""
    import time

    import torch
    import torch.nn.functional as F

    if steps <= 0 or batch <= 0 or temperature <= 0 or not 0 <= alpha <= 1:
        raise VariantError(
            f"distillation needs steps, batch, temperature > 0 and alpha in [0, 1]; got "
            f"{steps}, {batch}, {temperature}, {alpha}"
        )
    torch.manual_seed(seed)
    teacher, tokenizer = _load(base)
    student, kept = student_of(teacher, layers)
    encoded = _encoded(tokenizer, texts, tokens)
    length = min(len(ids[0]) for ids in encoded)
    rows = torch.cat([ids[:, :length] for ids in encoded])
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(student.parameters(), lr=lr)
    student.train()
    losses: list[float] = []
    start = time.perf_counter()
    for _ in range(steps):
        picks = rows[torch.randint(len(rows), (batch,), generator=generator)]
        with torch.no_grad():
            target = teacher(input_ids=picks).logits[:, :-1]
        logits = student(input_ids=picks).logits[:, :-1]
        vocab = logits.shape[-1]
        soft = (
            F.kl_div(
                F.log_softmax(logits / temperature, -1).reshape(-1, vocab),
                F.log_softmax(target / temperature, -1).reshape(-1, vocab),
                log_target=True,
                reduction="batchmean",
            )
            * temperature**2
        )
        hard = F.cross_entropy(logits.reshape(-1, vocab), picks[:, 1:].reshape(-1))
        loss = alpha * soft + (1 - alpha) * hard
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    student.eval()
    _save(student, base, out)
    return {
        "student_layers": layers,
        "teacher_layers": int(teacher.config.num_hidden_layers),
        "initialised_from_layers": kept,
        "sequence_tokens": length,
        "first_loss": losses[0],
        "final_loss": sum(losses[-5:]) / len(losses[-5:]),
        "train_s": round(time.perf_counter() - start, 2),
    }


def build_causal_distil(
    base: Path,
    out_root: Path,
    *,
    texts: Sequence[str],
    layers: int,
    force: bool = False,
    **options: Any,
) -> Built:
    """A distilled student with ``layers`` layers, trained on ``texts``, cached by recipe."""
    recipe = {"texts": len(texts), "layers": layers, **options}
    return build_cached(
        "distill", base, recipe, out_root,
        lambda out: {"backend": "torch",
                     **distil_causal(base, out, texts=texts, layers=layers, **options)},
        force=force, data={"training_texts": len(texts)}, compress=False,
    )  # fmt: skip


def build_causal_prune(
    base: Path,
    out_root: Path,
    *,
    kind: str = "magnitude",
    sparsity: float,
    texts: Sequence[str] = (),
    tokens: int = 128,
    force: bool = False,
) -> Built:
    """A pruned causal LM (``magnitude`` or ``wanda``), built once and cached by recipe."""
    if kind == "magnitude":
        recipe: dict[str, Any] = {"kind": kind, "sparsity": sparsity}
        return build_cached(
            "prune-magnitude", base, recipe, out_root,
            lambda out: {"backend": "torch", **magnitude_prune_causal(base, out,
                                                                      sparsity=sparsity)},
            force=force,
        )  # fmt: skip
    if kind == "wanda":
        recipe = {"kind": kind, "sparsity": sparsity, "texts": len(texts), "tokens": tokens}
        return build_cached(
            "prune-wanda", base, recipe, out_root,
            lambda out: {"backend": "torch",
                         **wanda_prune(base, out, sparsity=sparsity, texts=texts, tokens=tokens)},
            force=force, data={"calibration_texts": len(texts)},
        )  # fmt: skip
    raise VariantError(f"pruning kind {kind!r} for a causal LM: use magnitude or wanda")


def build_causal_lora(
    base: Path, out_root: Path, *, texts: Sequence[str], force: bool = False, **options: Any
) -> tuple[Built, Built]:
    """LoRA trained on ``texts``: the adapter (run unmerged, through peft) and the same
    adapter merged into the weights, each built once and cached by recipe."""
    recipe = {"texts": len(texts), "targets": list(LORA_TARGETS), **options}
    adapter = build_cached(
        "lora", base, recipe, out_root,
        lambda out: lora_adapter(base, out, texts=texts, **options),
        force=force, data={"training_texts": len(texts)}, compress=False,
    )  # fmt: skip
    merged = build_cached(
        "lora-merged", adapter.path, {"merge": "peft merge_and_unload"}, out_root,
        lambda out: merge_causal(adapter.path, out), force=force, compress=False,
    )  # fmt: skip
    return adapter, merged


def build_from_gguf(folder: Path, gguf_file: str, out_root: Path, *, force: bool = False) -> Built:
    """A GGUF file's weights, dequantized by transformers, saved as a safetensors folder (so
    that every later load takes seconds, not the dequantization's tens of seconds)."""

    def make(out: Path) -> dict[str, Any]:
        quiet_transformers()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source = Path(folder) / gguf_file
        if not source.is_file():
            raise VariantError(f"GGUF file {source} does not exist")
        try:
            with quiet_gguf():
                model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file)
                tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
        except ImportError:
            raise VariantError(
                "reading a GGUF file needs the gguf package: `pip install gguf`"
            ) from None
        # dequantized to plain tensors: nothing of the GGUF quantizer is left to save
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        return {
            "backend": "torch",
            "source_file": gguf_file,
            "source_size_bytes": source.stat().st_size,
            "dequantized": "from the GGUF file's own quantization by transformers + gguf",
        }

    return build_cached("from-gguf", Path(folder), {"gguf_file": gguf_file}, out_root, make,
                        force=force, compress=False)  # fmt: skip
