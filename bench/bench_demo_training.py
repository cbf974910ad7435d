"""How much training the demo needs: held-out accuracy against training time, per method.

Fine-tunes the demo's encoder (all-MiniLM-L6-v2) on growing shares of BBC News' training split
at 64 and 128 tokens, trains LoRA (from the encoder, as the demo does) and distils a 3-layer
student, each for a few budgets, and scores every model on the whole held-out split (556
articles, the same for every row) at the length it was trained with. Each row: training
examples, tokens, epochs, learning rate, training seconds, accuracy with its 95% Wilson
interval. The knee of each curve is what the demo's plans should use. Minutes of work:
not run in CI.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from common import parser, write_json
from joulebench.demo import FULL, LORA_LEARNING_RATE, STANDARD, demo_task, encoder_folder
from joulebench.tasks.data import TextDataset
from joulebench.variants import builders
from joulebench.variants.load import load_variant
from joulebench.variants.spec import VariantSpec
from joulebench.variants.train import TrainSettings, fine_tune

SCORE_BATCH = 32
PREVIOUS_FULL = TrainSettings(epochs=1, learning_rate=1e-4, max_length=128)
"""The full demo's training before this bench chose 64 tokens: its row is the reference."""


def score(path: Path, max_length: int) -> dict[str, Any]:
    """Accuracy of the model in ``path`` on the whole held-out split, with its interval."""
    task = demo_task(FULL)
    test = task.split().test
    model = load_variant(VariantSpec(name="m", path=path), max_length=max_length)
    texts = model.prepare(list(test.inputs)) if hasattr(model, "prepare") else list(test.inputs)
    predictions = []
    for i in range(0, len(texts), SCORE_BATCH):
        predictions.extend(list(model.predict(texts[i : i + SCORE_BATCH])))
    accuracy = task.score(predictions, test).accuracy
    assert accuracy is not None
    return {"test": accuracy.n, "accuracy": accuracy.value,
            "ci_low": accuracy.ci_low, "ci_high": accuracy.ci_high}  # fmt: skip


def train_split(examples: int | None) -> TextDataset:
    """The first ``examples`` of the stratified, shuffled training split (all with None)."""
    return demo_task(replace(FULL, max_train=examples)).split().train


def row(method: str, train: TextDataset, settings: TrainSettings, seconds: float,
        path: Path) -> dict[str, Any]:  # fmt: skip
    result = {"method": method, "examples": len(train), "max_length": settings.max_length,
              "epochs": settings.epochs, "learning_rate": settings.learning_rate,
              "train_s": seconds, **score(path, settings.max_length)}  # fmt: skip
    print(f"  {method:<10} {result['examples']:>5} {result['max_length']:>4} "
          f"{result['epochs']:>3} {result['learning_rate']:>8.0e} {seconds:>8.1f} s "
          f"{result['accuracy']:>7.1%} [{result['ci_low']:.1%}, {result['ci_high']:.1%}]",
          flush=True)  # fmt: skip
    return result


def main() -> None:
    args = parser(__doc__, "three rows only (a few minutes)")
    options = args.parse_args()
    encoder = encoder_folder()
    fine = [
        (n, replace(STANDARD.train, max_length=tokens))
        for n, tokens in (
            (150, 64),
            (300, 64),
            (600, 64),
            (1200, 64),
            (None, 64),
            (600, 128),
            (None, 128),
        )
    ]
    fine.append((None, PREVIOUS_FULL))  # fmt: skip
    lora = [(600, 1), (600, 2), (1200, 1)]
    distil = [300, 600, 1200]
    if options.quick:
        fine, lora, distil = fine[:1] + fine[2:3], [], [300]
    print("  method     examples tokens epochs  lr      train      accuracy [95% interval]")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        teacher = None
        for index, (examples, settings) in enumerate(fine):
            train = train_split(examples)
            out = root / f"base-{index}"
            started = time.perf_counter()
            fine_tune(encoder, train, out, settings)
            rows.append(row("fine-tune", train, settings, time.perf_counter() - started, out))
            if examples == 600 and settings == STANDARD.train:
                teacher = out
        for examples, epochs in lora:
            train = train_split(examples)
            settings = replace(STANDARD.train, learning_rate=LORA_LEARNING_RATE, epochs=epochs)
            started = time.perf_counter()
            _, merged = builders.build_lora(encoder, root / f"lora-{examples}-{epochs}", train,
                                            rank=8, settings=settings)  # fmt: skip
            assert merged is not None
            rows.append(row("lora", train, settings, time.perf_counter() - started, merged.path))
        for examples in distil:
            assert teacher is not None, "distillation needs the 600-example, 64-token teacher"
            train = train_split(examples)
            started = time.perf_counter()
            built = builders.build_distill(teacher, root / f"distil-{examples}", train,
                                           layers=3, settings=STANDARD.train)  # fmt: skip
            rows.append(row("distil-3L", train, STANDARD.train, time.perf_counter() - started,
                            built.path))  # fmt: skip
    write_json(options.json, "demo_training", {"rows": rows})


if __name__ == "__main__":
    main()
