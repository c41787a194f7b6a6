"""An "unsupported" refusal always names the op, its node and the reason (#11 item 7): crafted
models (tflite_build.py) with variable, sparse, float16, 7-D and dynamic-shape tensors, an LSTM
and an SVDF (which used to be refused as "tensor 16 is a variable" / "tensor 4 is a variable"),
an op we have no kernel for, and too many inputs."""

from __future__ import annotations

import numpy as np
import pytest

from tests.firmware.fwbuild import native_build  # noqa: F401 (fixture)
from tools.tflite_build import ModelBuilder

FLOAT16 = 1  # TensorType number


def _refusal(build, m: ModelBuilder) -> str:
    from harness.runtimes.native import EngineError

    with pytest.raises(EngineError) as ei:
        build.engine(m.build())
    assert ei.value.kind == "unsupported", str(ei.value)
    return str(ei.value)


def _svdf() -> ModelBuilder:
    m = ModelBuilder()
    x = m.tensor((1, 8), np.int8, 0.1, 0)
    wf = m.tensor((4, 8), np.int8, 0.01, 0, np.ones((4, 8)))
    wt = m.tensor((4, 10), np.int8, 0.01, 0, np.ones((4, 10)))
    b = m.tensor((4,), np.int32, 0.001, 0, np.zeros(4))
    state = m.tensor((1, 40), np.int8, 0.1, 0, variable=True)  # tensor 4, as in the issue
    y = m.tensor((1, 4), np.int8, 0.1, 0)
    m.op("SVDF", [x, wf, wt, b, state], [y])
    m.inputs, m.outputs = [x], [y]
    return m


def _lstm() -> ModelBuilder:
    """RESHAPE, then a UNIDIRECTIONAL_SEQUENCE_LSTM with its 24 inputs (-1: absent) and its two
    variable state tensors."""
    m = ModelBuilder()
    raw = m.tensor((1, 2, 4), np.int8, 0.1, 0)
    x = m.tensor((1, 2, 4), np.int8, 0.1, 0)
    m.op("RESHAPE", [raw], [x], {0: ("vec_i32", [1, 2, 4])})
    w = [m.tensor((3, 4), np.int8, 0.01, 0, np.ones((3, 4))) for _ in range(8)]
    bias = [m.tensor((3,), np.int32, 0.001, 0, np.zeros(3)) for _ in range(4)]
    out_state = m.tensor((1, 3), np.int8, 0.1, 0, variable=True)
    cell_state = m.tensor((1, 3), np.int8, 0.1, 0, variable=True)
    y = m.tensor((1, 2, 3), np.int8, 0.1, 0)
    ins = [x, *w, -1, -1, -1, *bias, -1, -1, out_state, cell_state, -1, -1, -1, -1]
    m.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y])
    m.inputs, m.outputs = [raw], [y]
    return m


def _add(shape_a=(2, 3), dtype=np.int8, **kw) -> ModelBuilder:
    m = ModelBuilder()
    a = m.tensor(shape_a, dtype, 0.1, 0, **kw)
    b = m.tensor((2, 3), np.int8, 0.1, 0)
    y = m.tensor((2, 3), np.int8, 0.1, 0)
    m.op("ADD", [a, b], [y])
    m.inputs, m.outputs = [a, b], [y]
    return m


def test_svdf_names_op_and_variable_tensors(native_build):
    assert _refusal(native_build, _svdf()) == "unsupported op SVDF at node 0: not supported (variable tensors)"


def test_lstm_names_op_and_variable_tensors(native_build):
    text = _refusal(native_build, _lstm())
    assert text == "unsupported op UNIDIRECTIONAL_SEQUENCE_LSTM at node 1: not supported (variable tensors)"


def _unary(op: str) -> ModelBuilder:
    m = ModelBuilder()
    x, y = m.tensor((4,), np.int8, 0.1, 0), m.tensor((4,), np.int8, 1 / 128, 0)
    m.op(op, [x], [y])
    m.inputs, m.outputs = [x], [y]
    return m


def test_op_without_kernel(native_build):
    assert _refusal(native_build, _unary("GELU")) == "unsupported op GELU at node 0: not supported (no kernel in this engine)"


def test_int16_only_op_names_the_type(native_build):
    """TANH runs on int16 (16x8 models) only; int8 TANH names op and type."""
    assert _refusal(native_build, _unary("TANH")) == "unsupported TANH at node 0: input type int8 (needs int16)"


@pytest.mark.parametrize("kw, why", [
    ({"variable": True}, "tensor 0 is a variable"),
    ({"sparse": True}, "tensor 0 is sparse"),
    ({"dtype": FLOAT16}, "tensor 0 has type float16"),
    ({"shape_a": (1, 1, 1, 1, 1, 2, 3)}, "tensor 0 has 7 dims (max 6)"),
    ({"shape_a": (-1, 3)}, "tensor 0 has a dim of -1 (dynamic shape)"),
], ids=["variable", "sparse", "float16", "7d", "dynamic"])
def test_op_we_run_names_itself_and_the_tensor(native_build, kw, why):
    assert _refusal(native_build, _add(**kw)) == f"unsupported ADD at node 0: {why}"


def test_too_many_inputs_names_op(native_build):
    m = ModelBuilder()
    xs = [m.tensor((1, 2), np.int8, 0.1, 0) for _ in range(12)]
    y = m.tensor((12, 2), np.int8, 0.1, 0)
    m.op("CONCATENATION", xs, [y], {0: ("i32", 0)})
    m.inputs, m.outputs = xs[:8], [y]
    assert _refusal(native_build, m) == "unsupported CONCATENATION at node 0: 12 inputs (max 10)"


def test_graph_input_no_op_uses(native_build):
    m = _add()
    v = m.tensor((3,), np.int8, 0.1, 0, variable=True)
    m.inputs = m.inputs + [v]
    assert _refusal(native_build, m) == \
        "unsupported model: graph input 2 (tensor 3) is not supported (variable tensors)"


def test_unused_odd_tensor_is_ignored(native_build):
    """A variable tensor that no op and no graph input/output uses does not stop the model."""
    m = _add()
    m.tensor((3,), np.int8, 0.1, 0, variable=True)
    eng = native_build.engine(m.build())
    a = np.arange(6, dtype=np.int8).reshape(2, 3)
    assert eng.run(a, a)[0].tolist() == (2 * a).tolist()
