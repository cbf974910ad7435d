from __future__ import annotations

import json
import zlib

import numpy as np
from safetensors.numpy import save_file

from joulebench.variants.recipe import (
    BLOCK_BYTES,
    COMPRESSOR,
    RECORD,
    build_cached,
    compressed_size,
    read_record,
)


def _weights(tmp_path, zero_fraction: float, values: int = 1_500_000) -> bytes:
    rng = np.random.default_rng(3)
    weights = rng.normal(0, 0.02, size=values).astype(np.float32)
    weights[rng.random(values) < zero_fraction] = 0.0
    return weights.tobytes()


def test_compressed_size_is_the_sum_of_level_1_blocks_over_the_weight_files(tmp_path):
    dense, sparse = _weights(tmp_path, 0.0), _weights(tmp_path, 0.5)
    assert len(dense) > BLOCK_BYTES  # more than one block
    (tmp_path / "model.safetensors").write_bytes(dense)
    (tmp_path / "model.onnx").write_bytes(sparse)
    (tmp_path / "notes.txt").write_bytes(b"x" * 1000)  # not a weight file

    def by_hand(data: bytes) -> int:
        return sum(
            len(zlib.compress(data[i : i + BLOCK_BYTES], 1))
            for i in range(0, len(data), BLOCK_BYTES)
        )

    assert compressed_size(tmp_path) == by_hand(dense) + by_hand(sparse)


def test_zeroed_weights_compress_smaller_and_a_folder_without_weights_has_no_figure(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "s").mkdir()
    (tmp_path / "d" / "model.safetensors").write_bytes(_weights(tmp_path, 0.0))
    (tmp_path / "s" / "model.safetensors").write_bytes(_weights(tmp_path, 0.5))
    dense, sparse = compressed_size(tmp_path / "d"), compressed_size(tmp_path / "s")
    assert sparse < 0.75 * dense
    (tmp_path / "empty").mkdir()
    assert compressed_size(tmp_path / "empty") is None


def test_a_cached_record_made_the_old_way_gets_its_compressed_size_made_again(tmp_path):
    parent = tmp_path / "parent"
    parent.mkdir()

    def build(out):
        weights = np.frombuffer(_weights(tmp_path, 0.3), dtype=np.float32)
        save_file({"w": weights.reshape(1000, -1)}, str(out / "model.safetensors"))
        return {}

    made = build_cached("prune", parent, {"sparsity": 0.3}, tmp_path / "builds", build)
    assert made.record["compressed_with"] == COMPRESSOR
    right = made.record["compressed_size_bytes"]
    # A record written before the compressor changed: no compressed_with, another figure.
    stale = {**made.record, "compressed_size_bytes": 123}
    del stale["compressed_with"]
    (made.path / RECORD).write_text(json.dumps(stale), encoding="utf-8")

    again = build_cached("prune", parent, {"sparsity": 0.3}, tmp_path / "builds", build)
    assert again.cached
    assert again.record["compressed_size_bytes"] == right
    assert read_record(made.path)["compressed_with"] == COMPRESSOR  # written back
