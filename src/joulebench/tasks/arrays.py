"""Examples held in arrays: images (from folders or arrays), features, anything a model takes.

``ArrayDataset`` is the array twin of ``TextDataset``: inputs (a numpy array whose first axis
is the example, or a list of objects) with integer labels and their names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from joulebench.errors import UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass(frozen=True, eq=False)
class ArrayDataset:
    """Inputs with integer labels; ``label_names[i]`` names label ``i``."""

    inputs: Any
    """A numpy array (first axis = example) or a sequence of per-example objects."""
    labels: tuple[int, ...]
    label_names: tuple[str, ...]
    source: str

    def __post_init__(self) -> None:
        check_one_label_each(self.inputs, self.labels, self.source)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: Sequence[int], source: str | None = None) -> ArrayDataset:
        """The examples at ``indices``."""
        inputs, labels = pick(self.inputs, self.labels, indices)
        return ArrayDataset(inputs, labels, self.label_names, source or self.source)


def check_one_label_each(inputs: Any, labels: Sequence[Any], source: str) -> None:
    """Refuse inputs and labels of different lengths (one line naming the source)."""
    if len(inputs) != len(labels):
        raise UserError(
            f"{source}: {len(inputs)} inputs but {len(labels)} labels; give one label per input"
        )


def pick(inputs: Any, labels: Sequence[Any], indices: Sequence[int]) -> tuple[Any, tuple[Any, ...]]:
    """The inputs (an array stays an array) and labels at ``indices``."""
    picked = (
        inputs[np.asarray(indices, dtype=int)]
        if isinstance(inputs, np.ndarray)
        else [inputs[i] for i in indices]
    )
    return picked, tuple(labels[i] for i in indices)


def label_indices(
    raw: Sequence[Any], label_names: Sequence[str] | None, source: str
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Labels as indices into their names.

    Integer labels 0..K-1 stay as they are (named by ``label_names`` or by their numbers);
    other labels (strings) are numbered in sorted order, or by ``label_names`` when given.
    """
    values = list(np.asarray(raw).tolist()) if isinstance(raw, np.ndarray) else list(raw)
    if not values:
        raise UserError(f"{source}: no examples")
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        ints = [int(v) for v in values]
        top = max(ints) + 1
        names = list(label_names) if label_names is not None else [str(i) for i in range(top)]
        if min(ints) < 0 or top > len(names):
            raise UserError(
                f"{source}: integer labels must be 0..{len(names) - 1} "
                f"(got {min(ints)}..{top - 1}); renumber them or give label_names"
            )
        return tuple(ints), tuple(names)
    text = [str(v) for v in values]
    names = list(label_names) if label_names is not None else sorted(set(text))
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted({t for t in text if t not in index})
    if unknown:
        raise UserError(
            f"{source}: unknown label {unknown[0]!r} (known: {', '.join(names)}); "
            "fix the labels or label_names"
        )
    return tuple(index[t] for t in text), tuple(names)


def as_dataset(
    inputs: Any, labels: Sequence[Any], label_names: Sequence[str] | None, source: str
) -> ArrayDataset:
    """An ``ArrayDataset`` from user arrays (checked: one label per input, labels numbered)."""
    if not isinstance(inputs, np.ndarray) and not isinstance(inputs, (list, tuple)):
        try:
            inputs = np.asarray(inputs)
        except Exception as exc:  # a tensor or other array-like that numpy cannot take
            raise UserError(f"{source}: inputs are not an array or a list ({exc})") from None
    if isinstance(inputs, np.ndarray) and inputs.ndim == 0:
        raise UserError(f"{source}: inputs are a single value; give one input per example")
    check_one_label_each(inputs, labels, source)
    numbers, names = label_indices(labels, label_names, source)
    if len(names) < 2:
        raise UserError(f"{source}: only one label ({names[0]!r}); need at least two")
    return ArrayDataset(inputs, numbers, names, source)


def image_folder(
    root: Path | str, *, size: tuple[int, int] | None = None, mode: str = "RGB"
) -> ArrayDataset:
    """Images in one folder per class (``root/cat/1.png``, ``root/dog/2.jpg``): uint8 arrays.

    Every image must have the same size, or give ``size=(height, width)`` to resize them all.
    Classes are numbered in sorted folder order.
    """
    from PIL import Image, UnidentifiedImageError

    root = Path(root)
    if not root.is_dir():
        raise UserError(f"image folder {root} does not exist; give a folder of class folders")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise UserError(
            f"image folder {root} has {len(classes)} class folder(s); put each class's images "
            "in its own folder (root/cat/*.png, root/dog/*.png)"
        )
    images: list[np.ndarray] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise UserError(
                f"class folder {root / name} has no images ({', '.join(IMAGE_SUFFIXES)})"
            )
        for file in files:
            try:
                with Image.open(file) as image:
                    image = image.convert(mode)
                    if size is not None:
                        image = image.resize((size[1], size[0]))
                    images.append(np.asarray(image))
            except (OSError, UnidentifiedImageError) as exc:
                raise UserError(
                    f"image {file} cannot be read ({exc}); remove or replace it"
                ) from None
            labels.append(label)
    shapes = sorted({a.shape for a in images})
    if len(shapes) > 1:
        raise UserError(
            f"images under {root} have different sizes ({shapes[0]} and {shapes[-1]}, ...); "
            "give size=(height, width) to resize them"
        )
    return ArrayDataset(np.stack(images), tuple(labels), tuple(classes), str(root))


def digits() -> ArrayDataset:
    """scikit-learn's handwritten digits: 1,797 8x8 grey images (0..1 floats), 10 classes.

    Shipped inside scikit-learn itself: no download.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    return ArrayDataset(
        images,
        tuple(int(t) for t in bunch.target),
        tuple(str(n) for n in bunch.target_names),
        "sklearn:digits",
    )


def load_arrays(path: Path | str, *, label_names: Sequence[str] | None = None) -> ArrayDataset:
    """Inputs and labels from a ``.npz`` file with arrays ``x`` (or ``inputs``) and ``y``
    (or ``labels``)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"array file {path} does not exist; give a .npz file with x and y")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            x_key = next((k for k in ("x", "inputs") if k in keys), None)
            y_key = next((k for k in ("y", "labels") if k in keys), None)
            if x_key is None or y_key is None:
                raise UserError(
                    f"array file {path} has arrays {', '.join(sorted(keys)) or 'none'}; it needs "
                    "'x' (inputs) and 'y' (labels)"
                )
            inputs, labels = data[x_key], data[y_key]
    except (OSError, ValueError) as exc:
        raise UserError(f"array file {path} cannot be read as .npz ({exc})") from None
    return as_dataset(inputs, labels, label_names, str(path))
