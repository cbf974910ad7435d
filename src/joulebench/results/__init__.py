"""The results store: versioned JSON documents, written atomically, read back as DataFrames."""

from __future__ import annotations

from joulebench.results.frame import documents, load, load_windows, read_document
from joulebench.results.schema import SCHEMA_VERSION
from joulebench.results.store import (
    build_document,
    build_variant_document,
    ensure_writable,
    save,
    save_variants,
    write_document,
)

__all__ = [
    "SCHEMA_VERSION",
    "build_document",
    "build_variant_document",
    "documents",
    "ensure_writable",
    "load",
    "load_windows",
    "read_document",
    "save",
    "save_variants",
    "write_document",
]
