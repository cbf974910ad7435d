"""A small, reproducible training loop shared by the distillation and LoRA builders."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from joulebench.tasks.data import TextDataset
from joulebench.variants.train import TrainSettings

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
