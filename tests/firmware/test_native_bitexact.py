"""The engine's API contracts against the TFLM interpreter (the MCU oracle): preserve_all,
readable intermediates equal to TFLM's, and the texts of its load errors. The whole-model
bit-exactness proof (1 000 / 10 000 inputs per model) is test_proof_models.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.firmware.fbutil import opcode_fields
from tests.firmware.fwbuild import PROJECT_MODELS, SHARED_MODELS, native_build  # noqa: F401 (fixture)

SHARED_INT8 = ["mlperf_tiny/kws_ref_model.tflite", "mlperf_tiny/vww_96_int8.tflite",
               "mlperf_tiny/pretrainedResnet_quant.tflite", "mlperf_tiny/ad01_int8.tflite"]


def _shared(rel: str) -> Path:
    p = SHARED_MODELS / rel
    if not p.exists():
        pytest.skip(f"{p} absent: the third-party models live in ../shared/models beside the repo")
    return p


def _tflm():
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        pytest.skip("tflite-micro (the TFLM Python interpreter) is not installed")
    return runtime


def _random_input(rng: np.random.Generator, info) -> np.ndarray:
    if info.dtype == np.float32:  # QUANTIZE models: floats spanning the int8 range and beyond
        span = 160 * (info.scale or 0.05)
        return rng.uniform(-span, span, info.shape).astype(np.float32)
    return rng.integers(-128, 128, info.shape, dtype=np.int8)


def test_supported_op_list(native_build):
    from harness.runtimes.native import supported_ops

    ops = supported_ops(native_build.lib)
    for name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD", "MUL",
                 "RESHAPE", "SOFTMAX", "QUANTIZE", "DEQUANTIZE", "LOGISTIC", "PAD", "MEAN", "CONCATENATION"):
        assert name in ops


def test_project_op_models_present():
    if not PROJECT_MODELS.joinpath("ops").is_dir():
        pytest.skip("models/ops not generated yet")
    assert len(list(PROJECT_MODELS.glob("ops/*.tflite"))) >= 10


def test_preserve_all_keeps_every_intermediate(native_build):
    data = _shared("mlperf_tiny/vww_96_int8.tflite").read_bytes()
    x = np.random.default_rng(1).integers(-128, 128, (1, 96, 96, 3), dtype=np.int8)
    keep = native_build.engine(data, preserve_all=True)
    reuse = native_build.engine(data)
    y_keep, y_reuse = keep.run(x)[0], reuse.run(x)[0]
    assert np.array_equal(y_keep, y_reuse)
    outs = [keep.op_output_tensor(i) for i in range(keep.num_ops)]
    assert all(keep.tensor(t) is not None for t in outs)
    assert sum(reuse.tensor(t) is None for t in outs) > 0, "without preserve_all some memory must be reused"
    assert reuse.arena_used < keep.arena_used
    for t in outs:  # whatever is still readable without preserve_all equals the preserved copy
        v = reuse.tensor(t)
        if v is not None:
            assert np.array_equal(v, keep.tensor(t))
    assert keep.op_names()[0] == "CONV_2D" and "SOFTMAX" in keep.op_names()


def test_arena_too_small_says_needed_vs_available(native_build):
    from harness.runtimes.native import EngineError

    data = _shared("mlperf_tiny/kws_ref_model.tflite").read_bytes()
    with pytest.raises(EngineError) as ei:
        native_build.engine(data, arena_bytes=4096)
    assert ei.value.kind == "arena"
    assert "arena too small: need" in str(ei.value) and "have 4096" in str(ei.value)


def test_float_model_is_refused_naming_op_and_node(native_build):
    from harness.runtimes.native import EngineError

    with pytest.raises(EngineError) as ei:
        native_build.engine(_shared("tflm/hello_world_float.tflite").read_bytes())
    assert ei.value.kind == "unsupported"
    assert "FULLY_CONNECTED at node 0" in str(ei.value) and "float32" in str(ei.value)


def _patched_opcode(data: bytes, deprecated: int | None, builtin: int | None) -> bytes:
    b = bytearray(data)
    dep_pos, bc_pos = opcode_fields(data, 0)
    assert dep_pos is not None and bc_pos is not None, "model stores both opcode fields"
    if deprecated is not None:
        b[dep_pos] = deprecated & 0xFF
    if builtin is not None:
        b[bc_pos:bc_pos + 4] = int(builtin).to_bytes(4, "little", signed=True)
    return bytes(b)


def test_unsupported_op_named_with_node(native_build):
    from harness.runtimes.native import EngineError

    data = _shared("tflm/hello_world_int8.tflite").read_bytes()
    with pytest.raises(EngineError, match=r"^unsupported op SUB at node 0: not supported \(no kernel in this engine\)$"):
        native_build.engine(_patched_opcode(data, 41, 41))
    # A code only in builtin_code (deprecated_builtin_code holds the 127 placeholder).
    with pytest.raises(EngineError, match=r"^unsupported op GELU at node 0: not supported \(no kernel in this engine\)$"):
        native_build.engine(_patched_opcode(data, 127, 150))


def test_opcode_read_from_either_field(native_build):
    data = _shared("tflm/hello_world_int8.tflite").read_bytes()
    x = np.array([[17]], dtype=np.int8)
    want = native_build.engine(data).run(x)[0]
    old_style = _patched_opcode(data, None, 0)        # only deprecated_builtin_code = 9
    new_style = _patched_opcode(data, 0, None)        # only builtin_code = 9 (the engine takes the max)
    assert np.array_equal(native_build.engine(old_style).run(x)[0], want)
    assert np.array_equal(native_build.engine(new_style).run(x)[0], want)


def test_corrupt_buffer_index_is_named(native_build):
    """A tensor whose buffer index points past the buffers vector: the text names both."""
    from harness.runtimes.native import EngineError
    from tests.firmware.fbutil import field, root, vector_tables

    data = bytearray(_shared("tflm/hello_world_int8.tflite").read_bytes())
    sg = vector_tables(bytes(data), root(bytes(data)), 2)[0]
    tensors = vector_tables(bytes(data), sg, 0)
    nbuf = len(vector_tables(bytes(data), root(bytes(data)), 4))
    ti, pos = next((i, field(bytes(data), t, 2)) for i, t in enumerate(tensors) if field(bytes(data), t, 2))
    data[pos:pos + 4] = (99).to_bytes(4, "little")
    with pytest.raises(EngineError) as ei:
        native_build.engine(bytes(data))
    assert str(ei.value) == f"corrupt model: tensor {ti} buffer index 99 out of range ({nbuf} buffers)"
    assert ei.value.kind == "corrupt"


@pytest.mark.parametrize("rel", SHARED_INT8)
def test_every_intermediate_matches_tflm(native_build, rel):
    """preserve_all on both sides: each op's output tensor, not just the graph outputs, is bit-exact."""
    tflm = _tflm()
    data = _shared(rel).read_bytes()
    oracle = tflm.Interpreter.from_bytes(data, arena_size=8 << 20,
                                         intrepreter_config=tflm.InterpreterConfig.kPreserveAllTensors)
    eng = native_build.engine(data, preserve_all=True)
    rng = np.random.default_rng(7)
    for _ in range(3):
        x = _random_input(rng, eng.input_info(0))
        oracle.set_input(x, 0)
        oracle.invoke()
        eng.run(x)
        for op in range(eng.num_ops):
            t = eng.op_output_tensor(op)
            ours = eng.tensor(t)
            ref = np.asarray(oracle.GetTensor(t, 0)["tensor_data"]).reshape(ours.shape)
            assert np.array_equal(ours, ref), f"{rel}: node {op} ({eng.op_names()[op]}) tensor {t} differs"


def test_per_op_ticks_and_limits(native_build):
    """invoke(profile=True) gives one elapsed time per op; a model over HB_MAX_TENSORS is refused."""
    from harness.runtimes.native import EngineError
    from tools.tflite_build import ModelBuilder

    eng = native_build.engine(_shared("mlperf_tiny/kws_ref_model.tflite").read_bytes())
    eng.set_input(0, np.zeros(eng.input_info(0).shape, np.int8))
    ticks = eng.invoke(profile=True)
    assert len(ticks) == eng.num_ops and sum(ticks) > 0

    m = ModelBuilder()
    x = m.tensor((1, 4), np.int8, 0.1, 0)
    y = m.tensor((4,), np.int8, 0.1, 0)
    for _ in range(300):
        m.tensor((1,), np.int8, 0.1, 0)
    m.op("RESHAPE", [x], [y])
    m.inputs, m.outputs = [x], [y]
    with pytest.raises(EngineError, match=r"^model too big: 302 tensors \(HB_MAX_TENSORS 256\)$") as ei:
        native_build.engine(m.build())
    assert ei.value.kind == "too_big"
