"""Knowledge distillation: a shallower student trained to match its teacher (as DistilBERT was).

The student copies the teacher's embeddings, classifier and every other encoder layer (evenly
spaced: 3 of 6 layers are 0, 2, 4), then trains on

    alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(student, y)

with the teacher's logits computed once, offline, and cached beside the variants.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from joulebench.errors import VariantError
from joulebench.tasks.data import TextDataset
from joulebench.variants.hf import quiet_transformers
from joulebench.variants.recipe import (
    check_bert_like,
    check_sequence_classifier,
    copy_tokenizer,
    recipe_hash,
)
from joulebench.variants.train import DEFAULT_TRAIN, TrainSettings, train_loop


def student_layers(teacher_layers: int, layers: int) -> list[int]:
    """Evenly spaced teacher layers for a student of ``layers`` (6 -> 3: [0, 2, 4])."""
    if not 1 <= layers < teacher_layers:
        raise VariantError(
            f"--layers {layers}: a student needs at least 1 and fewer than the teacher's "
            f"{teacher_layers} layers"
        )
    step = teacher_layers / layers
    return [int(i * step) for i in range(layers)]


def teacher_logits(
    teacher: Any, tokenizer: Any, train: TextDataset, settings: TrainSettings, cache: Path
) -> np.ndarray:
    """The teacher's logits for every training text, computed once and cached (``.npy``)."""
    import torch

    if cache.is_file():
        cached = np.load(cache)
        if cached.shape[0] == len(train):
            return cached
    rows = []
    with torch.inference_mode():
        for i in range(0, len(train), settings.batch_size):
            encoded = tokenizer(
                list(train.texts[i : i + settings.batch_size]),
                padding=True,
                truncation=True,
                max_length=settings.max_length,
                return_tensors="pt",
            )
            rows.append(teacher(**encoded).logits.float().numpy())
    logits = np.concatenate(rows)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, logits)
    return logits


def distill(
    teacher_path: Path,
    out: Path,
    train: TextDataset,
    *,
    layers: int,
    temperature: float = 2.0,
    alpha: float = 0.5,
    settings: TrainSettings = DEFAULT_TRAIN,
    cache_dir: Path,
) -> dict[str, Any]:
    """Make and train the student into ``out``; return what the build record should say."""
    quiet_transformers()
    import torch
    import torch.nn.functional as F
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if temperature <= 0:
        raise VariantError(f"--temperature {temperature}: give a positive temperature")
    if not 0 <= alpha <= 1:
        raise VariantError(f"--alpha {alpha}: give a weight in [0, 1]")
    config = check_sequence_classifier(teacher_path, "teacher")
    check_bert_like(config, "distillation", teacher_path)
    labels_in_data = len(train.label_names)
    if config.get("id2label") and len(config["id2label"]) != labels_in_data:
        raise VariantError(
            f"the teacher has {len(config['id2label'])} labels, the data {labels_in_data}; "
            "distil on the data the teacher was trained for"
        )
    tokenizer = AutoTokenizer.from_pretrained(teacher_path)
    teacher = AutoModelForSequenceClassification.from_pretrained(
        teacher_path, use_safetensors=True
    ).eval()
    kept = student_layers(teacher.config.num_hidden_layers, layers)
    student_config = teacher.config.__class__.from_dict(
        {**teacher.config.to_dict(), "num_hidden_layers": layers}
    )
    student = AutoModelForSequenceClassification.from_config(student_config)
    state = teacher.state_dict()
    prefix = f"{teacher.base_model_prefix}.encoder.layer."
    student_state = {}
    for key in student.state_dict():
        if key.startswith(prefix):
            index, rest = key[len(prefix) :].split(".", 1)
            student_state[key] = state[f"{prefix}{kept[int(index)]}.{rest}"]
        else:
            student_state[key] = state[key]
    student.load_state_dict(student_state)
    key = hashlib.sha256(
        json.dumps(
            {
                "teacher": recipe_hash("teacher", teacher_path, {}),
                "data": train.source,
                "n": len(train),
                "max_length": settings.max_length,
                "batch": settings.batch_size,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()[:12]
    soft_targets = torch.from_numpy(
        teacher_logits(teacher, tokenizer, train, settings, cache_dir / f"teacher-logits-{key}.npy")
    )
    del teacher

    def step_loss(encoded: Any, labels: Any, batch: list[int]) -> Any:
        logits = student(**encoded).logits
        target = soft_targets[batch]
        soft = F.kl_div(
            F.log_softmax(logits / temperature, dim=-1),
            F.softmax(target / temperature, dim=-1),
            reduction="batchmean",
        ) * (temperature**2)
        hard = F.cross_entropy(logits, labels)
        return alpha * soft + (1 - alpha) * hard

    loss, train_s = train_loop(student, tokenizer, train, settings, step_loss)
    out.mkdir(parents=True, exist_ok=True)
    student.save_pretrained(out)
    copy_tokenizer(teacher_path, out)
    return {
        "backend": "torch",
        "student_layers_from_teacher": kept,
        "teacher_layers": int(config["num_hidden_layers"]),
        "final_loss": loss,
        "train_s": round(train_s, 2),
        "train_settings": asdict(settings),
        "teacher_logits_cache": f"teacher-logits-{key}.npy",
    }
