"""``joulebench build METHOD --base FOLDER``: make a compressed variant, cached by its recipe.

    joulebench build onnx   --base runs/base [--optimize]
    joulebench build int8   --base runs/base --backend torch|onnxruntime [--static]
    joulebench build nf4    --base runs/base
    joulebench build prune  --base runs/base --kind magnitude --sparsity 0.5 [--scope layer]
    joulebench build prune  --base runs/base --kind structured --heads 0.5 --ffn 0.5
    joulebench build distill --teacher runs/base --layers 3 --temperature 2.0 --alpha 0.5
    joulebench build lora   --base runs/base --rank 8 --targets query,value --merge

distill and lora train on --data (default: the demo's BBC News training split).

The folder (under ``--out``, default ./variants) holds the model and joulebench-variant.json:
how it was made. A second build with the same recipe reuses it unless ``--force``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from joulebench.cli.format import format_frame
from joulebench.errors import UserError

METHODS = ("onnx", "int8", "nf4", "prune", "distill", "lora")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "build",
        help=f"make a compressed variant ({', '.join(METHODS)}) from a base classifier",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("method", choices=METHODS, help="what to build")
    parser.add_argument("--base", default=None, help="the base classifier folder (transformers)")
    parser.add_argument("--teacher", default=None, help="distill: the teacher (same as --base)")
    parser.add_argument("--out", default="variants", help="where variants go (default ./variants)")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("--json", action="store_true", help="print the build record as JSON")
    group = parser.add_argument_group("method options")
    group.add_argument("--optimize", action="store_true", help="onnx: save ORT's optimised graph")
    group.add_argument(
        "--backend", default="torch", choices=("torch", "onnxruntime"), help="int8: where"
    )
    group.add_argument(
        "--static", action="store_true",
        help="int8 onnxruntime: static (calibrated on --data) instead of dynamic",
    )  # fmt: skip
    group.add_argument("--kind", default="magnitude", choices=("magnitude", "structured"))
    group.add_argument("--sparsity", type=float, default=None, help="prune magnitude: fraction")
    group.add_argument("--scope", default="global", choices=("global", "layer"))
    group.add_argument("--heads", type=float, default=None, help="prune structured: fraction")
    group.add_argument("--ffn", type=float, default=None, help="prune structured: fraction")
    group.add_argument("--layers", type=int, default=3, help="distill: student layers")
    group.add_argument("--temperature", type=float, default=2.0, help="distill: T")
    group.add_argument("--alpha", type=float, default=0.5, help="distill: weight of the KL term")
    group.add_argument("--rank", type=int, default=8, help="lora: rank r")
    group.add_argument("--lora-alpha", type=int, default=16, help="lora: scaling alpha")
    group.add_argument("--dropout", type=float, default=0.05, help="lora: dropout")
    group.add_argument(
        "--targets", default="query,value", help="lora: module names, comma-separated"
    )
    group.add_argument(
        "--merge", action=argparse.BooleanOptionalAction, default=True,
        help="lora: also build the merged model (default yes)",
    )  # fmt: skip
    train = parser.add_argument_group("training (distill, lora)")
    train.add_argument(
        "--data", default="bbc-news", help="bbc-news, or a CSV/JSONL with text,label"
    )
    train.add_argument("--max-train", type=int, default=None, help="cap the training examples")
    train.add_argument("--epochs", type=int, default=1)
    train.add_argument("--lr", type=float, default=1e-4)
    train.add_argument("--batch-size", type=int, default=16)
    train.add_argument("--max-length", type=int, default=128)
    train.add_argument("--seed", type=int, default=0)
    parser.set_defaults(run=run)


def training_data(args: argparse.Namespace) -> Any:
    """The training split of --data (the held-out 25% is never trained on)."""
    from joulebench.tasks.data import builtin, load_table
    from joulebench.tasks.text_classification import TextClassification

    data = builtin(args.data) if args.data == "bbc-news" else load_table(args.data)
    task = TextClassification(data, test_fraction=0.25, max_train=args.max_train, seed=0)
    return task.split().train


def train_settings(args: argparse.Namespace) -> Any:
    """TrainSettings from the options."""
    from joulebench.variants.train import TrainSettings

    return TrainSettings(
        epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch_size,
        max_length=args.max_length, seed=args.seed,
    )  # fmt: skip


def build(args: argparse.Namespace) -> Any:
    """Run the builder ``args`` name; return its :class:`Built`."""
    from joulebench.variants import builders

    given = args.teacher if args.method == "distill" else args.base
    given = given or args.base or args.teacher
    if not given:
        flag = "--teacher" if args.method == "distill" else "--base"
        raise UserError(
            f"joulebench build {args.method} needs {flag} FOLDER (the model to start from)"
        )
    base, out = Path(given), Path(args.out)
    if args.method == "distill":
        return builders.build_distill(
            base, out, training_data(args), layers=args.layers, temperature=args.temperature,
            alpha=args.alpha, settings=train_settings(args), force=args.force,
        )  # fmt: skip
    if args.method == "lora":
        targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
        adapter, merged = builders.build_lora(
            base, out, training_data(args), rank=args.rank, lora_alpha=args.lora_alpha,
            dropout=args.dropout, targets=targets,
            settings=train_settings(args), merge=args.merge, force=args.force,
        )  # fmt: skip
        if merged is not None:
            print(f"LoRA adapter (not merged): {adapter.path}")
        return merged or adapter
    if args.method == "onnx":
        return builders.build_onnx(base, out, optimize=args.optimize, force=args.force)
    if args.method == "int8":
        calibration = training_data(args) if args.static else None
        return builders.build_int8(
            base, out, backend=args.backend, static=args.static, calibration=calibration,
            force=args.force,
        )  # fmt: skip
    if args.method == "nf4":
        return builders.build_nf4(base, out, force=args.force)
    if args.method == "prune":
        return builders.build_prune(
            base, out, kind=args.kind, sparsity=args.sparsity, scope=args.scope,
            heads=args.heads, ffn=args.ffn, force=args.force,
        )  # fmt: skip
    raise UserError(f"unknown method {args.method!r}; choose from {', '.join(METHODS)}")


def _summary(record: dict[str, Any]) -> dict[str, str]:
    keys = (
        "method", "backend", "parent", "recipe", "kernel", "size_bytes", "quantized_size_bytes",
        "compressed_size_bytes", "params", "nonzero_params", "achieved_sparsity",
        "max_abs_logit_diff", "build_s",
    )  # fmt: skip
    return {k: json.dumps(record[k]) if isinstance(record[k], dict) else str(record[k])
            for k in keys if record.get(k) is not None}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Build (or reuse) and print what was made."""
    import pandas as pd

    built = build(args)
    if args.json:
        print(
            json.dumps({"path": str(built.path), "cached": built.cached, **built.record}, indent=1)
        )
        return 0
    rows = pd.DataFrame(list(_summary(built.record).items()), columns=["field", "value"])
    state = "reused (cached; --force rebuilds)" if built.cached else "built"
    print(format_frame(rows, f"{args.method}: {state}"))
    print(f"Variant: {built.path}")
    return 0
