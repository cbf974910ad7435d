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


STORY = (
    "the film was good and the plot was very fine the music is great the acting was not "
    "bad the story is strong the movie was brilliant a very dull plot is weak"
).split()


def make_tiny_llama(
    folder: Path, *, pad_token: bool = False, seed: int = 0, layers: int = 2, hidden: int = 32
) -> Path:
    """Save a random ``hidden``-wide Llama causal LM (4 heads) of ``layers`` layers with a
    word-level tokenizer (no pad token unless asked: most causal LMs ship without one) into
    ``folder``. onnxruntime-genai's attention kernel needs heads of 16: ``hidden=64``."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    specials = ["<unk>", "<s>", "</s>", *(["<pad>"] if pad_token else [])]
    vocab = {t: i for i, t in enumerate([*specials, *dict.fromkeys(WORDS + STORY)])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        **({"pad_token": "<pad>"} if pad_token else {}),
    )
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=3 if pad_token else None,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def story_texts(count: int, words: int = 24, seed: int = 0) -> list[str]:
    """``count`` distinct texts of ``words`` words from the tiny models' vocabulary."""
    import random

    rng = random.Random(seed)
    texts: list[str] = []
    while len(texts) < count:
        text = " ".join(rng.choice(STORY) for _ in range(words))
        if text not in texts:
            texts.append(text)
    return texts


GOOD_AND_HALF = (
    "def good(batch):\n    return (batch[:, 1] > 0).astype(int)\n"
    "def half(batch):\n    return (batch[:, 0] > 0).astype(int)\n"
)
"""Two callables for an array task: right on every example, and right on half."""


def array_experiment(
    folder: Path, protocol: str, *, models: str = GOOD_AND_HALF, tail: str = ""
) -> Path:
    """An experiment of two callable variants (``good``, ``half``) on 40 normal draws in
    ``folder``: data.npz, models.py (``models``) and exp.toml with the simulated meter, the
    ``[protocol]`` lines ``protocol``, then ``tail`` (a ``[run]`` or ``[executor]`` section)."""
    import numpy as np

    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 2))
    np.savez(folder / "data.npz", x=x, y=(x[:, 1] > 0).astype(int))
    (folder / "models.py").write_text(models)
    path = folder / "exp.toml"
    path.write_text(
        '[task]\ndata = "data.npz"\ntest_fraction = 1.0\n\n'
        '[[variants]]\nname = "good"\nfunction = "models.py:good"\n\n'
        '[[variants]]\nname = "half"\nfunction = "models.py:half"\n\n'
        '[meter]\nname = "simulated"\n\n'
        f"[protocol]\n{protocol}\n{tail}"
    )
    return path
