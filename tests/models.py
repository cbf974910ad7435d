"""A tiny BERT classifier built locally (no download), for tests that need a real model."""

from __future__ import annotations

from pathlib import Path

WORDS = [
    "the",
    "a",
    "good",
    "bad",
    "film",
    "movie",
    "was",
    "is",
    "not",
    "very",
    "fine",
    "great",
    "awful",
    "plot",
    "acting",
    "story",
    "music",
    "boring",
    "brilliant",
    "dull",
    "superb",
    "weak",
    "strong",
]


def make_tiny_bert(folder: Path, num_labels: int = 2, seed: int = 0) -> Path:
    """Save a 2-layer, 32-wide BERT classifier with its tokenizer into ``folder``."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    tokenizer = BertTokenizerFast(vocab={t: i for i, t in enumerate(tokens)})
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        num_labels=num_labels,
        max_position_embeddings=64,
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
