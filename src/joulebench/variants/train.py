"""Fine-tune a base encoder into a sequence classifier on CPU (or CUDA), reproducibly."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from joulebench.errors import VariantError
from joulebench.tasks.data import TextDataset
from joulebench.variants.hf import quiet_transformers


@dataclass(frozen=True)
class TrainSettings:
    """How the base classifier is fine-tuned (recorded next to the model)."""

    epochs: int = 1
    learning_rate: float = 1e-4
    batch_size: int = 16
    max_length: int = 128
    seed: int = 0
    warmup_fraction: float = 0.1


DEFAULT_TRAIN = TrainSettings()


def fine_tune(
    encoder: Path,
    train: TextDataset,
    out: Path,
    settings: TrainSettings = DEFAULT_TRAIN,
    *,
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Fine-tune ``encoder`` (a transformers folder) on ``train``; save the classifier to ``out``.

    Full fine-tuning with AdamW, linear warm-up then decay, dynamic padding; the model is saved
    with safetensors together with its tokenizer and ``joulebench-variant.json`` (how it was
    made). ``progress(step, steps, loss)`` is called after each step.
    """
    quiet_transformers()
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(settings.seed)
    names = list(train.label_names)
    try:
        tokenizer = AutoTokenizer.from_pretrained(encoder)
        model = AutoModelForSequenceClassification.from_pretrained(
            encoder,
            num_labels=len(names),
            use_safetensors=True,
            id2label=dict(enumerate(names)),
            label2id={n: i for i, n in enumerate(names)},
        )
    except Exception as exc:  # transformers raises many types for a bad folder
        raise VariantError(f"cannot load the encoder in {encoder} to fine-tune it: {exc}") from None

    def step_loss(encoded: Any, labels: Any, batch: list[int]) -> Any:
        return model(**encoded, labels=labels).loss

    loss_value, train_s = train_loop(
        model, tokenizer, train, settings, step_loss, progress=progress
    )
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record = {
        "method": "base",
        "made_by": "joulebench fine_tune",
        "encoder": str(encoder),
        "train_source": train.source,
        "train_examples": len(train),
        "final_loss": loss_value,
        "train_s": train_s,
        "settings": asdict(settings),
    }
    (out / "joulebench-variant.json").write_text(json.dumps(record, indent=1))
    return out


StepLoss = Callable[[Any, Any, list[int]], Any]
"""``loss(encoded_batch, labels, example_indices) -> scalar tensor``."""


def train_loop(
    model: Any,
    tokenizer: Any,
    train: TextDataset,
    settings: TrainSettings,
    step_loss: StepLoss,
    *,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[float, float]:
    """AdamW over the trainable parameters, linear warm-up then decay, dynamic padding.

    Returns (final loss, seconds). Seeded: the same data and settings give the same model.
    """
    import torch

    torch.manual_seed(settings.seed)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=settings.learning_rate)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(settings.seed))
    batches = [
        order[i : i + settings.batch_size].tolist()
        for i in range(0, len(train), settings.batch_size)
    ]
    steps = len(batches) * settings.epochs
    warmup = max(1, int(steps * settings.warmup_fraction))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (steps - step) / max(1, steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    start = time.perf_counter()
    loss_value, step = math.nan, 0
    for _ in range(settings.epochs):
        for batch in batches:
            encoded = tokenizer(
                [train.texts[i] for i in batch],
                padding=True,
                truncation=True,
                max_length=settings.max_length,
                return_tensors="pt",
            )
            labels = torch.tensor([train.labels[i] for i in batch])
            loss = step_loss(encoded, labels, batch)
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            loss_value = float(loss.item())
            step += 1
            if progress is not None:
                progress(step, steps, loss_value)
    model.eval()
    return loss_value, time.perf_counter() - start
