"""Fine-tune a base encoder into a sequence classifier on CPU (or CUDA), reproducibly."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

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
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(settings.seed))
    batches = [
        order[i : i + settings.batch_size].tolist()
        for i in range(0, len(train), settings.batch_size)
    ]
    steps = len(batches) * settings.epochs
    warmup = max(1, int(steps * settings.warmup_fraction))

    def schedule(step: int) -> float:
        return (step + 1) / warmup if step < warmup else max(0.0, (steps - step) / (steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    start = time.perf_counter()
    step = 0
    loss_value = math.nan
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
            loss = model(**encoded, labels=labels).loss
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            loss_value = loss.item()
            step += 1
            if progress is not None:
                progress(step, steps, loss_value)
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
        "train_s": time.perf_counter() - start,
        "settings": asdict(settings),
    }
    (out / "joulebench-variant.json").write_text(json.dumps(record, indent=1))
    return out
