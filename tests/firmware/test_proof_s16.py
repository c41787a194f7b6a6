"""int16x8 (int16 activations, int8 weights) on the native engine, both kernel sets (the int16
kernels are plain C in both), every output byte against the TFLM interpreter:
- the op generator's int16 cases (opgen_s16*.py): 1 020 in `make test` (60 per op), 34 000 more
  in `make test-long`;
- the tables of SOFTMAX, LOGISTIC and TANH exhaustively: every int16 input (and, for SOFTMAX,
  every difference from the row maximum) at power-of-two and other scales;
- whole 16x8 models (s16_models.py): 200 inputs in make test, 1 000 in make test-long;
- refusals name op and type in one line."""

from __future__ import annotations

import numpy as np
import pytest

from tests.firmware.fwbuild import both_builds, native_build  # noqa: F401 (fixtures)
from tests.firmware.opgen import OPS16, tflm_run
from tests.firmware.proof import prove, seeds_for
from tests.firmware.s16_models import MODELS
from tools.tflite_build import ModelBuilder

QUICK, LONG = 17 * 60, 17 * 2000
# First seed of the long run: after the quick ones (seed s has op OPS16[s % 17]).
LONG_START = QUICK


def _prove(builds, seeds):
    pytest.importorskip("tflite_micro")
    tally = prove(seeds, {k: str(b.lib) for k, b in builds.items()})
    print("\n" + tally.summary())
    assert not tally.failures, "\n".join(tally.failures)
    for op in OPS16:  # refusals stay the exception: each op proves most of its cases
        assert tally.exact[op] >= 0.9 * len(seeds) / len(OPS16), f"{op}: only {tally.exact[op]} exact cases"


def test_generated_s16_ops_exact(both_builds):
    _prove(both_builds, seeds_for(QUICK, ops=OPS16))


@pytest.mark.long
def test_generated_s16_ops_exact_long(both_builds):
    _prove(both_builds, seeds_for(LONG, start=LONG_START, ops=OPS16))


def table_models() -> dict[str, tuple[bytes, np.ndarray]]:
    """name -> (model, its one input): LOGISTIC and TANH over all 65 536 int16 values, SOFTMAX
    over rows [32767, v] for every v (differences 0 .. -65535 from the row maximum)."""
    every = np.arange(-32768, 32768, dtype=np.int16)
    out = {}
    for op in ("LOGISTIC", "TANH"):
        for s in (2.0**-12, 2.0**-11, 2.0**-10, 2.0**-15, 3.0e-4, 1 / 3000, 0.0123, 2.5):
            m = ModelBuilder()
            x, y = m.tensor((65536,), np.int16, s, 0), m.tensor((65536,), np.int16, 2.0**-15, 0)
            m.op(op, [x], [y])
            m.inputs, m.outputs = [x], [y]
            out[f"{op}@{s:.3g}"] = (m.build(), every)
    rows = np.stack([np.full(65536, 32767, np.int16), every], axis=1)
    for s, beta in ((10 / 65535, 1.0), (10 / 65535, 0.5), (2.0**-12, 1.0), (1e-5, 1.7)):
        m = ModelBuilder()
        x, y = m.tensor((65536, 2), np.int16, s, 0), m.tensor((65536, 2), np.int16, 1 / 32768, 0)
        m.op("SOFTMAX", [x], [y], {0: ("f32", beta)})
        m.inputs, m.outputs = [x], [y]
        out[f"SOFTMAX@{s:.3g}b{beta}"] = (m.build(), rows)
    return out


@pytest.mark.parametrize("name", list(table_models()))
def test_s16_tables_exhaustive(both_builds, name):
    pytest.importorskip("tflite_micro")
    model, x = table_models()[name]
    (want,), = tflm_run(model, [[x]])
    for kernels, b in both_builds.items():
        got = b.engine(model).run(x)[0]
        bad = np.flatnonzero(got != want)
        assert not bad.size, f"{name} ({kernels}): {bad.size} outputs differ, first at input {x.ravel()[bad[0]]}: " \
                             f"ours {got.ravel()[bad[0]]}, TFLM {want.ravel()[bad[0]]}"


def _prove_model(builds, name: str, seed: int, n: int) -> None:
    from tests.firmware.model_proof import model_input

    pytest.importorskip("tflite_micro")
    data = MODELS[name](seed)
    engines = {k: b.engine(data) for k, b in builds.items()}
    first = next(iter(engines.values()))
    info = [(i.shape, i.dtype, i.scale, i.zero_point) for i in map(first.input_info, range(first.num_inputs))]
    samples = [model_input(info, name, k) for k in range(n)]
    want = tflm_run(data, samples)
    for kernels, eng in engines.items():
        bad = [k for k, xs in enumerate(samples)
               if any(y.tobytes() != w.tobytes() for y, w in zip(eng.run(*xs), want[k]))]
        assert not bad, f"{name} seed {seed} ({kernels}): inputs {bad[:10]} differ from TFLM"


@pytest.mark.parametrize("name", list(MODELS))
def test_s16_models_exact(both_builds, name):
    for seed in range(2):
        _prove_model(both_builds, name, seed, 200)


@pytest.mark.long
@pytest.mark.parametrize("name", list(MODELS))
def test_s16_models_exact_long(both_builds, name):
    for seed in range(5):
        _prove_model(both_builds, name, seed, 1000)


def _one(op: str, in_t, out_t, opts=None, extra=()) -> bytes:
    m = ModelBuilder()
    x, y = m.tensor(*in_t), m.tensor(*out_t)
    m.op(op, [x, *(m.tensor(*e) for e in extra)], [y], opts)
    m.inputs, m.outputs = [x], [y]
    return m.build()


W = ((4, 1, 1, 4), np.int8, 0.01, 0, np.ones((4, 1, 1, 4)))
CONV = {0: ("u8", 0), 1: ("i32", 1), 2: ("i32", 1)}
I16 = ((1, 2, 2, 4), np.int16, 0.01, 0)


def _mixed_add() -> bytes:
    m = ModelBuilder()
    a, b, y = m.tensor((4,), np.int16, 0.01, 0), m.tensor((4,), np.int8, 0.01, 0), m.tensor((4,), np.int16, 0.01, 0)
    m.op("ADD", [a, b], [y], {0: ("u8", 0)})
    m.inputs, m.outputs = [a, b], [y]
    return m.build()


REFUSALS = {  # what -> (model maker, the engine's one line)
    "int16 in, int8 out": (lambda: _one("CONV_2D", I16, ((1, 2, 2, 4), np.int8, 0.01, 0), CONV, [W]),
                           "unsupported CONV_2D at node 0: output type int8 (needs int16)"),
    "int16 zero point": (lambda: _one("CONV_2D", ((1, 2, 2, 4), np.int16, 0.01, 3), I16, CONV, [W]),
                         "unsupported CONV_2D at node 0: int16 input zero point 3 (int16 activations must be "
                         "symmetric, zero point 0)"),
    "int32 depthwise bias": (lambda: _one("DEPTHWISE_CONV_2D", I16, I16, {**CONV, 3: ("i32", 1)},
                                          [((1, 1, 1, 4), np.int8, 0.01, 0, np.ones((1, 1, 1, 4))),
                                           ((4,), np.int32, 1e-4, 0, np.zeros(4))]),
                             "unsupported DEPTHWISE_CONV_2D at node 0: bias type int32 with int16 input (needs int64)"),
    "softmax int8 out": (lambda: _one("SOFTMAX", ((1, 4), np.int16, 0.01, 0), ((1, 4), np.int8, 1 / 256, -128),
                                      {0: ("f32", 1.0)}),
                         "unsupported SOFTMAX at node 0: output type int8 (needs int16)"),
    "logistic scale": (lambda: _one("LOGISTIC", ((4,), np.int16, 0.01, 0), ((4,), np.int16, 1 / 256, 0)),
                       "unsupported LOGISTIC at node 0: int16 output must have scale 2^-15 and zero point 0"),
    "mixed ADD": (_mixed_add, "unsupported ADD at node 0: input 2 type int8 (needs int16)"),
}


@pytest.mark.parametrize("what", list(REFUSALS))
def test_s16_refusals_name_op_and_type(native_build, what):
    from harness.runtimes.native import EngineError

    make, text = REFUSALS[what]
    with pytest.raises(EngineError) as e:
        native_build.engine(make())
    assert str(e.value) == text
