"""How a built variant records how it was made, and the build cache keyed by recipe hash.

Every builder writes a folder with the model and ``joulebench-variant.json``: method, parent,
recipe (every hyper-parameter), library versions, seed, the data it was trained or calibrated
on, size on disk, parameter count (and non-zero count), build time. A build is cached under
``<out>/<method>-<hash of method, parent and recipe>``; it is rebuilt only with ``force``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joulebench.environment import library_versions as installed_versions
from joulebench.errors import VariantError
from joulebench.variants.base import size_on_disk

RECORD = "joulebench-variant.json"
LIBRARIES = (
    "torch", "transformers", "onnx", "onnxruntime", "peft", "torchao", "bitsandbytes",
)  # fmt: skip
"""Their versions are in every build's record and cache key: adding one here rebuilds every
user's cached variants, so a library only some builds use goes into their recipes instead."""
BERT_LIKE = ("bert", "roberta", "xlm-roberta", "electra", "camembert")
"""Encoders whose layers are ``encoder.layer[i]`` with ``attention.self.query``: the layer
surgery of distillation and structured pruning is written for this layout."""


def library_versions() -> dict[str, str | None]:
    """Versions of the libraries a build may use (None where not installed)."""
    return installed_versions(LIBRARIES)


def read_record(folder: Path) -> dict[str, Any]:
    """The folder's build record ({} where there is none)."""
    path = Path(folder) / RECORD
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}


def model_config(folder: Path, name: str = "base") -> dict[str, Any]:
    """``config.json`` of a transformers model folder, or a one-line error."""
    path = Path(folder) / "config.json"
    if not Path(folder).is_dir():
        raise VariantError(f"{name} {folder} does not exist; give a model folder")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VariantError(
            f"{name} {folder} has no config.json; give a transformers model folder"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise VariantError(f"{name} {folder}: config.json cannot be read ({exc})") from None


def check_sequence_classifier(folder: Path, name: str = "base") -> dict[str, Any]:
    """Refuse a folder that is not a transformers sequence classifier; return its config."""
    config = model_config(folder, name)
    architectures = config.get("architectures") or []
    if not any(str(a).endswith("ForSequenceClassification") for a in architectures):
        shown = ", ".join(architectures) or "none recorded"
        raise VariantError(
            f"{name} {folder} is not a sequence classifier (architectures: {shown}); "
            "fine-tune it for classification first (the demo does: `joulebench demo`)"
        )
    return config


def check_bert_like(config: dict[str, Any], method: str, folder: Path) -> None:
    """Refuse an architecture whose layers a method cannot operate on."""
    model_type = config.get("model_type")
    if model_type not in BERT_LIKE:
        raise VariantError(
            f"{method} works on BERT-style encoders ({', '.join(BERT_LIKE)}); {folder} is "
            f"{model_type!r}, which it does not support yet"
        )


def _parent_identity(parent: Path) -> dict[str, Any]:
    """What the parent is, for the hash: its record, and its weight files' names and sizes."""
    files = sorted(
        (p.relative_to(parent).as_posix(), p.stat().st_size)
        for p in Path(parent).rglob("*")
        if p.is_file() and p.suffix in (".safetensors", ".onnx", ".json")
    )
    return {"record": read_record(parent), "files": files}


def recipe_hash(method: str, parent: Path, recipe: dict[str, Any]) -> str:
    """12 hex digits identifying (method, parent, recipe, library versions)."""
    blob = json.dumps(
        {
            "method": method,
            "parent": _parent_identity(parent),
            "recipe": recipe,
            "versions": library_versions(),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Built:
    """A built (or cached) variant folder and its record."""

    path: Path
    record: dict[str, Any]
    cached: bool


def count_parameters(folder: Path) -> tuple[int | None, int | None]:
    """(parameters, non-zero parameters) in the folder's safetensors or ONNX weights."""
    import numpy as np

    folder = Path(folder)
    tensors = sorted(folder.glob("*.safetensors"))
    if tensors:
        from safetensors.numpy import load_file

        total = nonzero = 0
        for path in tensors:
            try:
                arrays = load_file(str(path))
            except Exception:  # bfloat16 and other dtypes numpy lacks: ask torch instead
                from safetensors.torch import load_file as load_torch

                arrays = {k: v.float().numpy() for k, v in load_torch(str(path)).items()}
            for array in arrays.values():
                total += int(array.size)
                nonzero += int(np.count_nonzero(array))
        return total, nonzero
    onnx_files = sorted(folder.glob("*.onnx"))
    if onnx_files:
        import onnx
        from onnx import numpy_helper

        total = nonzero = 0
        for initializer in onnx.load(str(onnx_files[0])).graph.initializer:
            array = numpy_helper.to_array(initializer)
            total += int(array.size)
            nonzero += int(np.count_nonzero(array))
        return total, nonzero
    return None, None


COMPRESSOR = "zlib level 1, independent 4 MiB blocks"
BLOCK_BYTES = 4 << 20


def compressed_size(folder: Path) -> int | None:
    """Bytes of the weight files after :data:`COMPRESSOR`: what sparsity saves when shipped.

    Level 1 in independent blocks, compressed on every core, is ten times faster than one
    level-6 stream over a 540 MB model (9.9 s against 106.7 s on 2 cores,
    ``bench/bench_compress.py``) and comes out about 6% larger; the blocks' independence
    costs under 0.01% (zlib's window is 32 KiB). The figure compares variants measured the
    same way, which the record's ``compressed_with`` names.
    """
    import os
    import zlib
    from concurrent.futures import ThreadPoolExecutor
    from itertools import islice

    files = [p for p in Path(folder).iterdir() if p.suffix in (".safetensors", ".onnx")]
    if not files:
        return None
    workers = max(1, os.cpu_count() or 1)
    total = 0
    with ThreadPoolExecutor(workers) as pool:  # zlib releases the GIL while it compresses
        for path in sorted(files):
            with path.open("rb") as handle:
                blocks = iter(lambda: handle.read(BLOCK_BYTES), b"")
                while batch := list(islice(blocks, 2 * workers)):  # bounded memory
                    total += sum(pool.map(lambda block: len(zlib.compress(block, 1)), batch))
    return total


def refresh_compressed(folder: Path, record: dict[str, Any]) -> dict[str, Any]:
    """A cached record whose compressed size was made another way gets it made again, so
    every variant of a run is compressed alike (earlier records used one level-6 stream)."""
    if record.get("compressed_size_bytes") is None or record.get("compressed_with") == COMPRESSOR:
        return record
    record = {
        **record,
        "compressed_size_bytes": compressed_size(folder),
        "compressed_with": COMPRESSOR,
    }
    with contextlib.suppress(OSError):  # read-only: right for this run, made again next time
        (folder / RECORD).write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    return record


def build_cached(
    method: str,
    parent: Path,
    recipe: dict[str, Any],
    out_root: Path,
    build: Callable[[Path], dict[str, Any]],
    *,
    force: bool = False,
    data: dict[str, Any] | None = None,
    compress: bool = True,
) -> Built:
    """Build into ``out_root/<method>-<hash>`` unless it is there already (or ``force``).

    ``compress=False`` leaves the compressed size out of the record (None): it takes seconds
    over a large dense model and says nothing where no weight was zeroed.

    ``build(folder)`` writes the model into ``folder`` and returns extra record entries (a
    kernel, a max-abs difference, ...). The folder appears only once the build has finished;
    a failed build leaves nothing behind, and a forced rebuild replaces the old folder only
    after the new one is complete.
    """
    parent = Path(parent)
    final = Path(out_root) / f"{method}-{recipe_hash(method, parent, recipe)}"
    if final.is_dir() and (final / RECORD).is_file() and not force:
        return Built(final, refresh_compressed(final, read_record(final)), cached=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}-"))
    try:
        start = time.perf_counter()
        extra = build(temp)
        build_s = time.perf_counter() - start
        params, nonzero = count_parameters(temp)
        record = {
            "method": method,
            "parent": str(parent),
            "parent_method": read_record(parent).get("method"),
            "recipe": recipe,
            "seed": recipe.get("seed"),
            "data": data,
            "libraries": library_versions(),
            "size_bytes": size_on_disk(temp),
            "compressed_size_bytes": compressed_size(temp) if compress else None,
            "compressed_with": COMPRESSOR if compress else None,
            "params": params,
            "nonzero_params": nonzero,
            "build_s": round(build_s, 3),
            "built_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **extra,
        }
        (temp / RECORD).write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
        if final.exists():
            old = final.with_name(f".{final.name}-old")
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
            temp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            temp.rename(final)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return Built(final, record, cached=False)


TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
    "merges.txt",
    "vocab.json",
    "sentencepiece.bpe.model",
)


def copy_tokenizer(src: Path, out: Path) -> None:
    """Copy the tokenizer files (and nothing else) from ``src`` to ``out``."""
    for name in TOKENIZER_FILES:
        if (Path(src) / name).is_file():
            shutil.copy2(Path(src) / name, Path(out) / name)
