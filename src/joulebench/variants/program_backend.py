"""Saved torch programs on array inputs: TorchScript (``torch.jit.save``) and ``torch.export``
(``torch.export.save``, a ``.pt2`` file). A batch (a numpy array) goes in as a float tensor;
the output (logits, scores or labels) comes back as a numpy array."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from joulebench.errors import VariantError
from joulebench.variants.base import VariantInfo, size_on_disk

PROGRAM_SUFFIXES = {"torchscript": (".pt", ".pth", ".ts"), "torch-export": (".pt2",)}


def _program_file(path: Path, backend: str, name: str) -> Path:
    if path.is_file():
        return path
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in PROGRAM_SUFFIXES[backend])
        if len(files) == 1:
            return files[0]
        raise VariantError(
            f"variant {name!r}: {path} holds {len(files)} {backend} files "
            f"({', '.join(PROGRAM_SUFFIXES[backend])}); give the file itself"
        )
    raise VariantError(f"variant {name!r}: {path} does not exist; give the {backend} file")


class TorchProgram:
    """A TorchScript or ``torch.export`` program, run under ``torch.inference_mode``."""

    def __init__(self, path: Path, *, name: str, backend: str, device: str = "cpu") -> None:
        import torch

        self.name = name
        self.device = torch.device(device)
        file = _program_file(Path(path), backend, name)
        try:
            if backend == "torchscript":
                self.module = torch.jit.load(str(file), map_location=self.device)
            else:
                self.module = torch.export.load(str(file)).module().to(self.device)
        except Exception as exc:
            raise VariantError(
                f"variant {name!r}: {file} is not a loadable {backend} program "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                "save it again with "
                + ("torch.jit.save" if backend == "torchscript" else "torch.export.save")
            ) from None
        state = self.module.state_dict() if hasattr(self.module, "state_dict") else {}
        params = sum(int(t.numel()) for t in state.values()) if state else None
        self.info = VariantInfo(backend, params, size_on_disk(file), {"program": str(file)})

    def prepare(self, batch: Any) -> Any:
        """The batch as a float32 tensor on the device (not measured)."""
        import torch

        array = np.asarray(batch)
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if tensor.is_floating_point() or array.dtype == np.uint8:
            tensor = tensor.float()
        return tensor.to(self.device)

    def predict(self, batch: Any) -> Any:
        """The program's output for one prepared batch, as a numpy array."""
        import torch

        with torch.inference_mode():
            out = self.module(batch)
        if isinstance(out, (tuple, list)):
            out = out[0]
        return out.detach().cpu().numpy()
