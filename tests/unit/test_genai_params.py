"""Parameters of an onnxruntime-genai graph: 4-bit packed weights count as K x N."""

from __future__ import annotations

import numpy as np
import pytest

from joulebench.variants.genai_backend import onnx_params


def _graph(path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    k, n, block = 64, 32, 32
    packed = np.zeros((n, k // block, block // 2), dtype=np.uint8)  # 4 bits a weight
    scales = np.ones((n * (k // block),), dtype=np.float32)
    norm = np.ones((k,), dtype=np.float32)
    ids = np.arange(3, dtype=np.int64)  # an integer constant: not a parameter
    nodes = [
        helper.make_node("Mul", ["x", "norm"], ["h"]),
        helper.make_node(
            "MatMulNBits",
            ["h", "w_packed", "w_scales"],
            ["y"],
            domain="com.microsoft",
            K=k,
            N=n,
            bits=4,
            block_size=block,
        ),
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
        [numpy_helper.from_array(packed, "w_packed"), numpy_helper.from_array(scales, "w_scales"),
         numpy_helper.from_array(norm, "norm"), numpy_helper.from_array(ids, "ids")],
    )  # fmt: skip
    onnx.save(helper.make_model(graph), str(path))
    return k * n + k


def test_packed_weights_count_as_k_by_n_and_their_scales_and_integers_do_not(tmp_path):
    expected = _graph(tmp_path / "model.onnx")
    assert onnx_params(tmp_path / "model.onnx") == expected == 64 * 32 + 64


def test_an_unreadable_graph_has_no_parameter_count_not_zero(tmp_path):
    pytest.importorskip("onnx")
    (tmp_path / "model.onnx").write_bytes(b"not a graph")
    assert onnx_params(tmp_path / "model.onnx") is None
