"""Hugging Face libraries, kept quiet and offline: joulebench loads models from folders only."""

from __future__ import annotations

import logging
import os

QUIET_LOGGERS = ("torchao", "torch.utils._pytree", "bitsandbytes", "peft")


def quiet_transformers() -> None:
    """No hub look-ups, no progress bars, warnings only when they are errors.

    Call before loading a model (it imports transformers if installed): variants are local
    folders, so the hub is never needed, and its progress bars would bury joulebench's own
    output.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # torchao (imported by transformers and peft where installed) reports every optional GPU
    # kernel it cannot load, and torch warns about its enums: noise on a CPU machine
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return  # the caller reports the missing library with its fix
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()


class QuietRootLogger:
    """Silence warnings that libraries (onnxruntime's quantizer) send to the root logger."""

    def __enter__(self) -> None:
        self.level = logging.root.level
        logging.root.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        logging.root.setLevel(self.level)
