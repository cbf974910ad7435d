"""Export a causal LM to an onnxruntime-genai folder (fp32, or int4 weights), built once.

Runs onnxruntime-genai's own model builder (``python -m onnxruntime_genai.models.builder``)
in a child process on a local transformers folder: no network, nothing downloaded (its
Hugging Face cache points into a scratch folder). ``int4`` quantizes the decoder's MatMul
weights to 4 bits in blocks of 32 with a scale each (``MatMulNBits``, round to nearest);
embeddings, norms and the rest stay fp32.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from joulebench.errors import VariantError
from joulebench.variants.genai_backend import GENAI_CONFIG, INSTALL, onnx_params
from joulebench.variants.recipe import Built, build_cached

PRECISIONS = ("fp32", "int4")
BUILDER = "onnxruntime_genai.models.builder"


def _builder_error(stderr: str) -> str:
    """The builder's own explanation: the last line that says something."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return (errors or lines or ["no output"])[-1][:300]


def export_genai(base: Path, out: Path, *, precision: str = "fp32") -> dict[str, Any]:
    """Write ``base`` (a transformers causal LM folder) as an onnxruntime-genai folder."""
    import importlib.util

    if precision not in PRECISIONS:
        raise VariantError(f"precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if importlib.util.find_spec("onnxruntime_genai") is None:
        raise VariantError(f"an onnxruntime-genai export needs onnxruntime-genai: `{INSTALL}`")
    with tempfile.TemporaryDirectory(prefix="joulebench-genai-") as scratch:
        command = [sys.executable, "-m", BUILDER, "-i", str(base), "-o", str(out),
                   "-p", precision, "-e", "cpu", "-c", scratch]  # fmt: skip
        environment = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    if done.returncode != 0 or not (Path(out) / GENAI_CONFIG).is_file():
        raise VariantError(
            f"onnxruntime-genai's builder could not export {base} ({_builder_error(done.stderr)})"
            "; it supports Llama, Mistral, Phi, Qwen, Gemma and a few other decoders"
        )
    import onnxruntime_genai

    return {
        "backend": "onnxruntime-genai",
        "precision": precision,
        "execution_provider": "cpu",
        "exporter": f"onnxruntime-genai {onnxruntime_genai.__version__} model builder",
        "params": onnx_params(Path(out) / "model.onnx"),
        # packed 4-bit weights hide their zeros: only an fp32 export's count is meaningful
        **({"nonzero_params": None} if precision != "fp32" else {}),
    }


def build_causal_onnx(
    base: Path, out_root: Path, *, precision: str = "fp32", force: bool = False
) -> Built:
    """``base`` exported for onnxruntime-genai at ``precision``, built once, cached by recipe."""
    from joulebench.environment import library_versions

    method = "onnx-genai" if precision == "fp32" else f"onnx-genai-{precision}"
    # the exporter's version keys this build only (not every build's, as LIBRARIES' do)
    version = library_versions(("onnxruntime-genai",))["onnxruntime-genai"]
    recipe = {"precision": precision, "execution_provider": "cpu", "onnxruntime_genai": version}
    return build_cached(
        method, Path(base), recipe, out_root,
        lambda out: export_genai(base, out, precision=precision), force=force, compress=False,
    )  # fmt: skip
