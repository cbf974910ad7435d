"""ONNX Runtime back-end: ``model.onnx`` plus the tokenizer files in one folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from joulebench.errors import VariantError
from joulebench.variants.base import VariantInfo, cut_to_tokens, encode, size_on_disk
from joulebench.variants.hf import quiet_transformers

MODEL_FILE = "model.onnx"


class OnnxClassifier:
    """An ONNX sequence classifier run by ONNX Runtime (CUDA where present, else CPU)."""

    def __init__(
        self,
        path: Path,
        *,
        name: str = "variant",
        threads: int | None = None,
        max_length: int = 128,
        prefer_cuda: bool = False,
    ) -> None:
        quiet_transformers()
        try:
            import onnxruntime as ort
            from transformers import AutoTokenizer
        except ImportError as exc:
            raise VariantError(
                f"the onnxruntime back-end needs {exc.name}; `pip install 'joulebench[onnx]'`"
            ) from None
        path = Path(path)
        model_file = path / MODEL_FILE if path.is_dir() else path
        folder = model_file.parent
        if not model_file.is_file():
            raise VariantError(f"variant {name!r}: no ONNX model at {model_file}; fix its path")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        if prefer_cuda and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self.session = ort.InferenceSession(str(model_file), options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise VariantError(
                f"variant {name!r}: ONNX Runtime cannot load {model_file} "
                f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                "the file may be corrupt: export it again"
            ) from None
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder)
        except (OSError, ValueError) as exc:
            raise VariantError(
                f"variant {name!r}: no usable tokenizer next to {model_file} ({exc}); "
                "save the tokenizer into the same folder"
            ) from None
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.max_length = max_length
        params = _initializer_count(model_file)
        self.info = VariantInfo(
            "onnxruntime",
            params,
            size_on_disk(model_file),
            {"providers": self.session.get_providers(), "max_length": max_length},
        )

    def prepare(self, texts: Sequence[str]) -> list[str]:
        """Texts cut to their first ``max_length`` tokens' words (once, before measuring)."""
        return cut_to_tokens(self.tokenizer, texts, self.max_length)

    def logits(self, texts: Sequence[str]) -> Any:
        """Raw logits for one batch, as a numpy array (tokenisation included)."""
        encoded = encode(self.tokenizer, texts, self.max_length, "np")
        feeds: dict[str, Any] = {k: np.asarray(encoded[k], dtype=np.int64) for k in self.inputs}
        (logits,) = self.session.run(None, feeds)[:1]
        return logits

    def predict(self, texts: Sequence[str]) -> list[int]:
        """Label indices for one batch (tokenisation included)."""
        return [int(i) for i in np.argmax(self.logits(texts), axis=-1)]


def _initializer_count(model_file: Path) -> int | None:
    """Number of weights stored in the ONNX graph (None if onnx is not installed)."""
    try:
        import onnx
    except ImportError:
        return None
    model = onnx.load(str(model_file), load_external_data=False)
    return int(sum(int(np.prod(t.dims)) for t in model.graph.initializer))
