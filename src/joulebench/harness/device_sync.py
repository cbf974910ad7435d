"""Waiting for an accelerator's queued work, in the process that queued it.

A CUDA kernel launch returns before the GPU has finished; a window that ended at the return
would leave that work (and its energy) to the next window. The worker therefore waits for its
device after every batch, before it reports a window done, so the meter's reading, taken in
the parent right after, covers finished work only. ONNX Runtime's ``session.run`` returns host
arrays, so its work has finished when it returns; torch on CUDA needs
``torch.cuda.synchronize()``. Never imports torch: a process that has not imported it has
queued no CUDA work.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


def _noop() -> None:
    return None


def is_gpu_device(device: str) -> bool:
    """True for a CUDA device string (``cuda``, ``cuda:1``)."""
    return device.strip().lower().startswith("cuda")


def synchronizer(device: str) -> Callable[[], None]:
    """A function that waits for ``device``'s queued work; a no-op for the CPU."""
    if not is_gpu_device(device):
        return _noop

    def synchronize() -> None:
        torch = sys.modules.get("torch")
        cuda = getattr(torch, "cuda", None)
        if cuda is not None and cuda.is_available() and cuda.is_initialized():
            cuda.synchronize()

    return synchronize
