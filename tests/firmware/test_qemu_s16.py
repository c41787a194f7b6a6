"""int16x8 on qemu-m4 (mps2-an386, the Arm build, KERNELS=dsp and c: the int16 kernels are
plain C in both sets, no asm), every output byte against the TFLM interpreter, many models per
QEMU boot (qemu_batch.py):
- make test: every 6th int16 generated case of make test's 1 020 (170), the exhaustive SOFTMAX /
  LOGISTIC / TANH table models, the whole 16x8 models (s16_models.py) with 50 inputs;
- make test-long: 3 generated models of each int16 op with 1 000 inputs each, the whole models
  with 1 000 inputs, on both kernel sets."""

from __future__ import annotations

import shutil
import zlib

import numpy as np
import pytest

from tests.firmware.opgen import OPS16, _float_sample, _int16_sample, make_case
from tests.firmware.proof import seeds_for
from tests.firmware.s16_models import MODELS
from tests.firmware.test_proof_s16 import QUICK, table_models


@pytest.fixture(scope="module", params=["dsp", "c"])
def batch_elf(request):
    if not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")):
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc missing")
    pytest.importorskip("tflite_micro")
    if request.param == "c" and not request.config.getoption("-m") == "long":
        pytest.skip("the plain C build on QEMU runs in make test-long")
    from tests.firmware.qemu_batch import build_batch_elf

    return build_batch_elf("mps2-an386", request.param)


def prove_items(elf, items: list[tuple[str, bytes, list]]) -> int:
    """items: (name, model, samples); TFLM's outputs against one QEMU run; returns inputs compared."""
    from tests.firmware.opgen import tflm_run
    from tests.firmware.qemu_batch import run_batch, split_batches

    wants = {name: tflm_run(model, samples) for name, model, samples in items}
    done, rest = 0, list(items)
    for group in split_batches([(model, samples) for _, model, samples in items]):
        part, rest = rest[:len(group)], rest[len(group):]
        sizes = [[o.nbytes for o in wants[name][0]] for name, _, _ in part]
        for (name, _, samples), res in zip(part, run_batch(elf, group, out_sizes=sizes)):
            assert res.status == 0, f"{name} refused on qemu-m4: {res.text}"
            bad = [k for k in range(len(samples)) if [o for o in res.outputs[k]] != [w.tobytes() for w in wants[name][k]]]
            assert not bad, f"{name}: inputs {bad[:10]} differ from TFLM on qemu-m4"
            done += len(samples)
    return done


def test_generated_s16_ops_on_m4(batch_elf):
    from tests.firmware.qemu_batch import prove_on_qemu

    seeds = seeds_for(QUICK, ops=OPS16)[::6]
    tally = prove_on_qemu(seeds, batch_elf)
    print("\nqemu-m4: " + tally.summary())
    assert not tally.failures, "\n".join(tally.failures)
    assert sum(tally.exact.values()) >= 0.95 * len(seeds)


def test_s16_tables_on_m4(batch_elf):
    n = prove_items(batch_elf, [(name, model, [[x]]) for name, (model, x) in table_models().items()])
    print(f"\nqemu-m4: {len(table_models())} table models, {n} inputs of 65 536 values, exact")


def many_inputs(case, n: int) -> list:
    """n input samples for a generated case: its own 7, then seeded random ones."""
    rng = np.random.default_rng([zlib.crc32(case.op.encode()), case.seed])
    specs = [(x.shape, x.dtype) for x in case.samples[0]]
    extra = [[_float_sample(rng, s, "uniform") if d == np.float32 else
              _int16_sample(rng, s, "uniform", 0) if d == np.int16 else
              rng.integers(-128, 128, s, dtype=np.int8) for s, d in specs] for _ in range(n - len(case.samples))]
    return case.samples + extra


@pytest.mark.long
def test_each_s16_op_1000_inputs_on_m4(batch_elf):
    """3 models of every int16 op (the first seeds TFLM and we both run), 1 000 inputs each."""
    from tests.firmware.opgen import TflmRefused, tflm_run

    items = []
    for op in OPS16:
        found, seed = 0, 0
        while found < 3:
            case = make_case(seed, op)
            seed += 1
            try:
                tflm_run(case.model, case.samples[:1])
            except TflmRefused:
                continue
            items.append((f"{op} seed {case.seed}", case.model, many_inputs(case, 1000)))
            found += 1
    n = prove_items(batch_elf, items)
    print(f"\nqemu-m4: {len(items)} int16 op models, {n} inputs, exact")


def input_info(data: bytes) -> list:
    """(shape, dtype, scale, zero point) of each graph input, as model_proof.model_input takes them."""
    from harness.core.model import inspect

    return [(t.shape, np.dtype(t.dtype).type, t.scale, t.zero_point) for t in inspect(data, "model").inputs]


def _model_items(n: int, seeds=range(2)):
    from tests.firmware.model_proof import model_input

    items = []
    for name, make in MODELS.items():
        for seed in seeds:
            data = make(seed)
            items.append((f"{name} seed {seed}", data, [model_input(input_info(data), name, k) for k in range(n)]))
    return items


def test_s16_models_on_m4(batch_elf):
    prove_items(batch_elf, _model_items(50))


@pytest.mark.long
def test_s16_models_on_m4_long(batch_elf):
    prove_items(batch_elf, _model_items(1000, range(5)))
