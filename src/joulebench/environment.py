"""Facts about the Python environment: which libraries are installed, at which versions.

Read from package metadata, without importing the libraries; the bottom layer (variants'
build records and the harness's machine fingerprint both use it).
"""

from __future__ import annotations

from importlib import metadata

LIBRARIES = (
    "joulebench",
    "numpy",
    "scipy",
    "pandas",
    "torch",
    "onnxruntime",
    "transformers",
    "nvidia-ml-py",
)


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    """Installed versions (None where not installed), read without importing the libraries."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions
