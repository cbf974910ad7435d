"""The image demo: scikit-learn's 8x8 digits, different models on one plot, no network.

Variants (families on the plot):

- ``cnn-8px`` (family ``cnn``, method ``base``) and ``cnn-4px``, ``cnn-16px`` (method
  ``resolution``): one small CNN design trained at three input resolutions (the 8x8 images
  resized inside the model), saved as ``torch.export`` programs;
- ``mlp`` (family ``mlp``): a torch multilayer perceptron, a plain Python callable;
- ``logistic-regression`` (family ``linear``): scikit-learn, a plain Python callable.

The CNN programs are trained once and cached (platformdirs), keyed by what made them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from joulebench.caching import cache_root
from joulebench.environment import library_versions
from joulebench.harness.runner import Event
from joulebench.tasks.arrays import digits
from joulebench.tasks.classification import Classification
from joulebench.variants.spec import VariantSpec

RESOLUTIONS = (4, 8, 16)
NATIVE_PX = 8
EPOCHS = 30
CACHE_VERSION = 2
MODELS = "joulebench.examples.digits_models"
SEED = 0


def digits_task() -> Classification:
    """The image demo's task: digits, 25% held out, stratified, seed 0."""
    return Classification(digits(), test_fraction=0.25, seed=SEED, name="digits (8x8 images)")


def _cnn(resolution: int) -> Any:
    import torch
    from torch import nn

    class SmallCnn(nn.Module):
        """conv(16) - pool - conv(32) - pool to 2x2 - linear, on ``resolution`` px images."""

        def __init__(self) -> None:
            super().__init__()
            self.resolution = resolution
            self.features = nn.Sequential(
                nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
            )  # fmt: skip
            self.classifier = nn.Linear(32 * 4, 10)

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            x = images.unsqueeze(1)
            if self.resolution != x.shape[-1]:
                x = nn.functional.interpolate(
                    x, size=(self.resolution, self.resolution), mode="bilinear",
                    align_corners=False,
                )  # fmt: skip
            return self.classifier(self.features(x).flatten(1))

    return SmallCnn()


def train_cnn(task: Classification, resolution: int, epochs: int = EPOCHS, seed: int = 0) -> Any:
    """A small CNN trained on ``task``'s training split at ``resolution`` px (seeded)."""
    import numpy as np
    import torch

    torch.manual_seed(seed)
    train = task.split().train
    images = torch.from_numpy(np.asarray(train.inputs, dtype=np.float32))
    labels = torch.tensor(train.labels)
    model = _cnn(resolution)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(labels), generator=generator).split(64):
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(images[batch]), labels[batch])
            loss.backward()
            optimiser.step()
    return model.eval()


def export_program(model: Any, path: Path) -> Path:
    """Save ``model`` as a ``torch.export`` program taking (batch, 8, 8) images, any batch."""
    import torch

    example = (torch.zeros(4, 8, 8),)
    batch = torch.export.Dim("batch", min=1, max=65536)
    program = torch.export.export(model, example, dynamic_shapes=({0: batch},))
    torch.export.save(program, str(path))
    return path


def _key() -> str:
    versions = library_versions(("torch", "scikit-learn"))
    blob = json.dumps({"v": CACHE_VERSION, "epochs": EPOCHS, "versions": versions}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def build_digits_variants(
    task: Classification,
    *,
    cache_dir: Path | None = None,
    on_event: Callable[[Event], None] = lambda e: None,
) -> list[VariantSpec]:
    """Train (or reuse) the CNNs and return every variant of the image demo."""
    root = Path(cache_dir or cache_root()) / "digits" / _key()
    root.mkdir(parents=True, exist_ok=True)
    specs = []
    for resolution in RESOLUTIONS:
        name = f"cnn-{resolution}px"
        path = root / f"{name}.pt2"
        if not path.is_file():
            on_event(Event("build", name, f"training a small CNN at {resolution}x{resolution} px"))
            temp = path.with_suffix(".tmp.pt2")
            export_program(train_cnn(task, resolution), temp)
            temp.replace(path)
        native = resolution == NATIVE_PX  # the others: the same CNN at another input size
        specs.append(
            VariantSpec(name=name, method="base" if native else "resolution", family="cnn",
                        parent=None if native else f"cnn-{NATIVE_PX}px", backend="torch-export",
                        path=path, recipe={"input_resolution_px": resolution, "epochs": EPOCHS})
        )  # fmt: skip
    specs.append(
        VariantSpec(name="mlp", method="base", family="mlp", backend="callable",
                    function=f"{MODELS}:mlp", loader=f"{MODELS}:to_tensor")
    )  # fmt: skip
    specs.append(
        VariantSpec(name="logistic-regression", method="base", family="linear",
                    backend="callable", function=f"{MODELS}:logistic_regression")
    )  # fmt: skip
    return specs
