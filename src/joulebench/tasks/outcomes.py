"""Per-example outcomes: which test examples a variant got right, and the test set's identity.

Two variants scored on the same examples are compared example by example (a paired test:
``joulebench.stats.paired``), which sees far smaller changes than comparing two accuracies as
if they came from different examples. Pairing is only sound on the same examples in the same
order, so each record carries a hash of the test set (its inputs and labels, in order); two
records pair only when their hashes match.

Stored compactly: one bit per example (``numpy.packbits``), base64 in the results file (a
test set of 10,000 examples takes 1.7 kB).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

CORRECT = "correct"
"""Outcome kind: one bit per example, set where the prediction was right."""


def _feed(digest: Any, value: Any) -> None:
    """Add ``value`` to ``digest`` with its type and length, so no two values collide by
    concatenation ("ab" + "c" vs "a" + "bc")."""
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iub":
        _feed(digest, value.tolist())  # labels: the same whether an array or a list
    elif isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        digest.update(f"nd:{array.dtype.str}:{array.shape}:".encode())
        if array.dtype.kind == "O":
            for item in array.reshape(-1):
                _feed(digest, item)
        else:
            digest.update(array.tobytes())
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        digest.update(f"s:{len(data)}:".encode())
        digest.update(data)
    elif isinstance(value, bytes):
        digest.update(f"b:{len(value)}:".encode())
        digest.update(value)
    elif isinstance(value, np.generic):  # numpy's 3 and Python's 3 are the same label
        _feed(digest, value.item())
    elif isinstance(value, (bool, int, float)) or value is None:
        digest.update(f"n:{value!r};".encode())
    elif isinstance(value, dict):
        digest.update(f"d:{len(value)}:".encode())
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
    elif isinstance(value, Iterable):
        items = list(value)
        digest.update(f"l:{len(items)}:".encode())
        for item in items:
            _feed(digest, item)
    else:  # an object of the user's own: its repr is the best identity there is
        text = repr(value).encode("utf-8", "replace")
        digest.update(f"r:{len(text)}:".encode())
        digest.update(text)


def hash_test_set(inputs: Any, labels: Any) -> str:
    """SHA-256 of a test set's inputs and labels, in order (hex): its identity for pairing."""
    digest = hashlib.sha256()
    _feed(digest, inputs)
    _feed(digest, list(labels))  # an array of labels and a list of the same are one test set
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class Outcomes:
    """Which examples of a test set a variant got right, in the test set's order."""

    correct: np.ndarray
    """One bool per example."""
    test_set: str
    """:func:`hash_test_set` of the examples these outcomes are for."""

    @property
    def n(self) -> int:
        """The number of examples."""
        return int(self.correct.size)

    def pairs_with(self, other: Outcomes) -> bool:
        """True when both are outcomes on the same examples in the same order."""
        return self.test_set == other.test_set and self.n == other.n

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: the bits packed and base64-encoded."""
        packed = np.packbits(self.correct.astype(bool))
        return {
            "kind": CORRECT,
            "n": self.n,
            "test_set": self.test_set,
            "bits": base64.b64encode(packed.tobytes()).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcomes | None:
        """The outcomes a results file holds, or None when it holds none (an older file, a
        task without right or wrong answers) or they are damaged."""
        if not isinstance(data, dict) or data.get("kind") != CORRECT:
            return None
        try:
            n = int(data["n"])
            raw = np.frombuffer(base64.b64decode(data["bits"], validate=True), dtype=np.uint8)
            test_set = str(data["test_set"])
        except (KeyError, TypeError, ValueError):
            return None
        if raw.size != (n + 7) // 8:
            return None
        return cls(np.unpackbits(raw, count=n).astype(bool), test_set)
