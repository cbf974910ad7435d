"""Two of the image demo's variants as plain Python callables, the way a user writes their own.

Each is ``batch -> predictions`` at the top level of a module, so joulebench's worker can
import it as ``joulebench.examples.digits_models:mlp``. These two train themselves when the
module is imported (seeded, a second or two on the digits' training split); a project of
your own would load its trained weights here instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from joulebench.examples.digits import SEED, digits_task


def _train_split() -> tuple[np.ndarray, np.ndarray]:
    train = digits_task().split().train
    return np.asarray(train.inputs).reshape(len(train), -1), np.asarray(train.labels)


def _train_mlp() -> torch.nn.Module:
    x, y = _train_split()
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    features, labels = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(150):  # full-batch steps: about a second on one core
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(features), labels)
        loss.backward()
        optimiser.step()
    return model.eval()


def _train_logistic() -> LogisticRegression:
    x, y = _train_split()
    return LogisticRegression(max_iter=500).fit(x, y)


MLP = _train_mlp()
LOGISTIC = _train_logistic()


def to_tensor(batch: Any) -> torch.Tensor:
    """The loader of ``mlp``: a batch of 8x8 images as a (n, 64) float tensor (not measured)."""
    return torch.from_numpy(np.asarray(batch, dtype=np.float32).reshape(len(batch), -1))


def mlp(batch: torch.Tensor) -> np.ndarray:
    """A 64-32-10 multilayer perceptron: scores for the 10 digits (so top-5 is known too)."""
    with torch.inference_mode():
        return MLP(batch).numpy()


def logistic_regression(batch: Any) -> np.ndarray:
    """scikit-learn's logistic regression: digit labels (it exposes no torch module, so its
    parameter count is "unknown")."""
    return LOGISTIC.predict(np.asarray(batch).reshape(len(batch), -1))
