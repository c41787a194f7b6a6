"""The replay's TFLM variant equals the TFLM interpreter byte for byte on every op we support:
each op of the project's models, of the third-party models and of generated single-op models is
replayed from TFLM's own input tensors (preserve-all mode) and must give TFLM's output tensor."""

from __future__ import annotations

import numpy as np
import pytest

from harness.analysis.attribution import fixedpoint as fx
from harness.analysis.attribution.explain import explain_model
from harness.analysis.attribution.graph import model_inputs, read_ops
from tests.common import MODELS, SHARED

SUPPORTED = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MUL", "AVERAGE_POOL_2D", "MAX_POOL_2D",
             "SOFTMAX", "RESHAPE", "PAD", "PADV2", "MEAN", "QUANTIZE", "DEQUANTIZE", "LOGISTIC", "CONCATENATION"}


def random_rows(model: bytes, rng: np.random.Generator) -> list[np.ndarray]:
    """One random sample per graph input (int8 over the full range, float32 in [-6, 6])."""
    specs = {t.index: t for op in read_ops(model, "m") for t in op.inputs if t is not None}
    rows = []
    for t in model_inputs(model, "m"):
        s = specs[t]
        rows.append(rng.uniform(-6, 6, s.shape).astype(np.float32) if s.dtype == "float32"
                    else rng.integers(-128, 128, s.shape, dtype=np.int8))
    return rows


def tflm_samples(model: bytes, rows_list: list[list[np.ndarray]]) -> list[dict]:
    """Every tensor TFLM computes (preserve-all) for each sample, model inputs included."""
    from tflite_micro.python.tflite_micro import runtime as tflm

    ops = read_ops(model, "m")
    it = tflm.Interpreter.from_bytes(model, arena_size=len(model) * 10 + (16 << 20),
                                     intrepreter_config=tflm.InterpreterConfig.kPreserveAllTensors)
    ins = model_inputs(model, "m")
    out = []
    for rows in rows_list:
        for i, x in enumerate(rows):
            it.set_input(x, i)
        it.invoke()
        s = {t.index: np.array(it.GetTensor(t.index, 0)["tensor_data"]) for op in ops for t in op.outputs}
        s.update(zip(ins, rows))
        out.append(s)
    return out


def assert_tflm_everywhere(model: bytes, n: int, seed: int, what: str) -> set[str]:
    rng = np.random.default_rng(seed)
    samples = tflm_samples(model, [random_rows(model, rng) for _ in range(n)])
    rows = explain_model(model, samples, what)
    bad = [(r["index"], r["op"], r.get("why") or f"{r.get('tflm_match_pct')} %") for r in rows if r["verdict"] != "tflm"]
    assert not bad, f"{what}: TFLM replay differs from the TFLM interpreter: {bad}"
    return {r["op"] for r in rows}


def test_project_models_every_op(tmp_path):
    seen: set[str] = set()
    for path in sorted((MODELS / "ops").glob("*.tflite")) + [MODELS / "digits_int8.tflite"]:
        seen |= assert_tflm_everywhere(path.read_bytes(), 12, 1, path.name)
    assert seen >= SUPPORTED - {"PADV2"}, SUPPORTED - seen


@pytest.mark.parametrize("rel", ["mlperf_tiny/pretrainedResnet_quant.tflite", "mlperf_tiny/kws_ref_model.tflite",
                                 "mlperf_tiny/vww_96_int8.tflite", "mlperf_tiny/ad01_int8.tflite",
                                 "tflm/hello_world_int8.tflite"])
def test_third_party_models_every_op(rel):
    path = SHARED / rel
    if not path.exists():
        pytest.skip(f"{path} not present: the third-party models live in ../shared/models beside the repo")
    assert_tflm_everywhere(path.read_bytes(), 3, 2, rel)


def _matrix_cases():
    from tests.firmware import test_native_ops_matrix as matrix

    return matrix.CASES


def test_generated_single_op_models():
    """The firmware op matrix's configurations (dilation, groups, depth multiplier, per-tensor
    weights, every activation, broadcasts, axes...), 10 random inputs each."""
    seen: set[str] = set()
    for name, build in sorted(_matrix_cases().items()):
        model = build(np.random.default_rng(sum(map(ord, name)))).build()
        seen |= assert_tflm_everywhere(model, 10, 3, name)
    assert seen == SUPPORTED, SUPPORTED ^ seen


def test_rounding_helpers_on_ties():
    """Each mode on exact ties and just off them, both signs."""
    x = np.array([5, -5, 6, -6, 7, -7, 4, -4])  # / 4: 1.25 -1.25 1.5 -1.5 1.75 -1.75 1 -1
    assert fx.rounding_shift(x, 2, "away").tolist() == [1, -1, 2, -2, 2, -2, 1, -1]
    assert fx.rounding_shift(x, 2, "up").tolist() == [1, -1, 2, -1, 2, -2, 1, -1]
    assert fx.rounding_shift(x, 2, "even").tolist() == [1, -1, 2, -2, 2, -2, 1, -1]
    assert fx.rounding_shift(x, 2, "floor").tolist() == [1, -2, 1, -2, 1, -2, 1, -1]
    assert fx.rounding_shift(np.array([2, -2, 10]), 2, "even").tolist() == [0, 0, 2]  # 0.5 -0.5 2.5
    assert fx.round_float(np.array([0.5, -0.5, 2.5, 0.49999997], np.float32), "away").tolist() == [1, -1, 3, 0]
    assert fx.srdhm(np.array([fx.I32_MIN]), fx.I32_MIN).tolist() == [fx.I32_MAX]


def test_requantisation_variants_agree_where_the_sources_say():
    """ruy's arm64 SQDMULH + SRSHL equals single rounding whenever it shifts right; the variants
    differ from TFLM's double rounding on a small share of random accumulators."""
    rng = np.random.default_rng(0)
    acc = rng.integers(-(1 << 20), 1 << 20, 200000)
    m, s = fx.quantize_multiplier(0.0013)
    single = fx.requant_single(acc, m, s, "up")
    assert np.array_equal(fx.requant_double(acc, m, s, "up", "floor"), single)
    tflm = fx.requant_double(acc, m, s)
    share = float(np.mean(tflm != single))
    assert 0.0005 < share < 0.05 and np.abs(tflm - single).max() == 1
