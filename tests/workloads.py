"""Workloads with a known cost, imported by spawned workers in the integration tests."""

from __future__ import annotations

import time

import numpy as np

SECONDS_PER_ITEM = 0.004


def four_ms_per_item(batch):
    """Exactly 4 ms of (sleeping) work per example: the work allows at most 250 items/s."""
    deadline = time.perf_counter() + SECONDS_PER_ITEM * len(batch)
    while time.perf_counter() < deadline:
        time.sleep(max(0.0, min(0.001, deadline - time.perf_counter())))
    return np.zeros(len(batch), dtype=int)


_CUDA: dict[str, object] = {}


def cuda_matmul(batch):
    """A GPU matrix product per example, returning labels still on the GPU (not synchronised)."""
    import torch

    if "a" not in _CUDA:
        _CUDA["a"] = torch.randn(4096, 4096, device="cuda")
    a = _CUDA["a"]
    out = a
    for _ in range(len(batch)):
        out = a @ a
    return torch.zeros(len(batch), dtype=torch.long, device="cuda") + out[0, 0].long() * 0


def sign_of_second(batch):
    """Right wherever the label is ``x[:, 1] > 0`` (the fleet tests' data)."""
    return (np.asarray(batch)[:, 1] > 0).astype(int)


def sign_of_first(batch):
    """Right about half the time on the fleet tests' data."""
    return (np.asarray(batch)[:, 0] > 0).astype(int)
