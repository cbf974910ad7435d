"""``joulebench cache``: where the demo's models and builds are cached, how big, and clearing it.

The demo fine-tunes its base model and builds its variants once, then reuses them (keyed by
everything that made them); the image demo's models likewise. They live in the user's cache
folder (platformdirs: ``~/.cache/joulebench`` on Linux).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from joulebench.caching import cache_root
from joulebench.errors import UserError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "cache", help="list the cached demo models and builds, and their size; --clear frees it"
    )
    parser.add_argument(
        "--clear", action="store_true", help="delete every cached model and build (rebuilt on use)"
    )
    parser.set_defaults(run=run)


def size_bytes(path: Path) -> int:
    """Bytes of every file under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def run(args: argparse.Namespace) -> int:
    """List the cache (or clear it)."""
    root = cache_root()
    kinds = [kind for kind in root.iterdir() if kind.is_dir()] if root.is_dir() else []
    entries = sorted(entry for kind in kinds for entry in kind.iterdir())
    if args.clear:
        if not root.exists():
            print(f"nothing cached ({root} does not exist)")
            return 0
        freed = size_bytes(root)
        try:
            shutil.rmtree(root)
        except OSError as exc:
            raise UserError(
                f"cannot clear the cache {root}: {exc.strerror or exc}; delete it by hand"
            ) from None
        print(f"cleared {root}: {_mb(freed)} freed ({len(entries)} entries)")
        return 0
    if not entries:
        print(f"nothing cached yet under {root}")
        return 0
    print(f"cache: {root}")
    total = 0
    for entry in entries:
        size = size_bytes(entry)
        total += size
        print(f"  {entry.relative_to(root)}  {_mb(size)}")
    print(f"total {_mb(total)}; `joulebench cache --clear` deletes it (rebuilt when next used)")
    return 0
