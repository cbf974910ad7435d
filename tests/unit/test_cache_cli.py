"""`joulebench cache` lists what the demos cached and clears it; `report` names what it skips."""

from __future__ import annotations

import json
from pathlib import Path

from joulebench.cli import cache
from joulebench.cli.main import main


def test_cache_lists_entries_with_sizes_and_clear_frees_them(tmp_path, monkeypatch, capsys):
    root = tmp_path / "joulebench"
    monkeypatch.setattr(cache, "cache_root", lambda: root)
    assert main(["cache"]) == 0
    assert "nothing cached yet" in capsys.readouterr().out
    (root / "demo" / "abc123" / "base").mkdir(parents=True)
    (root / "demo" / "abc123" / "base" / "model.safetensors").write_bytes(b"x" * 2_000_000)
    (root / "digits" / "def456").mkdir(parents=True)
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert "demo/abc123  2.0 MB" in out and "digits/def456  0.0 MB" in out
    assert "total 2.0 MB" in out
    assert main(["cache", "--clear"]) == 0
    assert "2.0 MB freed (2 entries)" in capsys.readouterr().out
    assert not root.exists()


def test_report_says_which_measurements_it_left_out(tmp_path, capsys):
    data = Path(__file__).parent.parent / "data"
    folder = tmp_path / "results"
    folder.mkdir()
    for name in ("variants-v1.json", "results-v2.json"):
        (folder / name).write_text((data / name).read_text())
    assert main(["report", str(folder), "--out", str(tmp_path / "reports")]) == 0
    out = capsys.readouterr().out
    labels = [
        m["label"] for m in json.loads((data / "results-v2.json").read_text())["measurements"]
    ]
    assert f"left out {len(labels)} measurement(s) without a model score" in out
    assert all(label in out for label in labels)


def test_the_cache_folder_follows_joulebench_cache_dir_and_cache_lists_it(
    tmp_path, monkeypatch, capsys
):
    from joulebench.caching import CACHE_ENV, cache_root
    from joulebench.demo import STANDARD, demo_root

    monkeypatch.delenv(CACHE_ENV, raising=False)
    default = cache_root()
    assert default.name == "joulebench"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "ci-cache"))
    assert cache_root() == tmp_path / "ci-cache" != default
    assert demo_root(STANDARD).parent.parent == tmp_path / "ci-cache"
    (tmp_path / "ci-cache" / "demo" / "k1").mkdir(parents=True)
    assert main(["cache"]) == 0
    assert "demo/k1" in capsys.readouterr().out
    monkeypatch.setenv(CACHE_ENV, "  ")  # blank: as if unset
    assert cache_root() == default
