"""``joulebench build METHOD --base FOLDER``: make a compressed variant, cached by its recipe.

    joulebench build onnx   --base runs/base [--optimize]
    joulebench build int8   --base runs/base --backend torch|onnxruntime
    joulebench build nf4    --base runs/base
    joulebench build prune  --base runs/base --kind magnitude --sparsity 0.5 [--scope layer]
    joulebench build prune  --base runs/base --kind structured --heads 0.5 --ffn 0.5

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

METHODS = ("onnx", "int8", "nf4", "prune")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "build",
        help="make a compressed variant (onnx, int8, nf4, prune) from a base classifier",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("method", choices=METHODS, help="what to build")
    parser.add_argument("--base", required=True, help="the base classifier folder (transformers)")
    parser.add_argument("--out", default="variants", help="where variants go (default ./variants)")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("--json", action="store_true", help="print the build record as JSON")
    group = parser.add_argument_group("method options")
    group.add_argument("--optimize", action="store_true", help="onnx: save ORT's optimised graph")
    group.add_argument(
        "--backend", default="torch", choices=("torch", "onnxruntime"), help="int8: where"
    )
    group.add_argument("--kind", default="magnitude", choices=("magnitude", "structured"))
    group.add_argument("--sparsity", type=float, default=None, help="prune magnitude: fraction")
    group.add_argument("--scope", default="global", choices=("global", "layer"))
    group.add_argument("--heads", type=float, default=None, help="prune structured: fraction")
    group.add_argument("--ffn", type=float, default=None, help="prune structured: fraction")
    parser.set_defaults(run=run)


def build(args: argparse.Namespace) -> Any:
    """Run the builder ``args`` name; return its :class:`Built`."""
    from joulebench.variants import builders

    base, out = Path(args.base), Path(args.out)
    if args.method == "onnx":
        return builders.build_onnx(base, out, optimize=args.optimize, force=args.force)
    if args.method == "int8":
        return builders.build_int8(base, out, backend=args.backend, force=args.force)
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
