"""The Helium (MVE) kernels as they run on a Cortex-M55 (qemu-m55 = mps3-an547, KERNELS=mve, the
default build for that board; the DSP and C kernels stay its fallbacks). MVE exists only there,
so this is their proof: every output byte equal to the TFLM interpreter's, many cases per QEMU
boot (firmware/tools/batch_main.c, qemu_batch.py):
- the op matrix's CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD and AVERAGE_POOL_2D cases
  (4 inputs each);
- a sample of the op generator's cases (every 3rd of the ops with Helium or DSP kernels and every
  31st of the others from make test's 5 008; every 9th and 97th of test-long's 100 000);
- every int8 model with 20 seeded random and edge inputs (200 in test-long)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.firmware.proof import LONG_SEEDS, QUICK_SEEDS, qemu_subset
from tests.firmware.test_native_ops_matrix import CASES
from tests.firmware.test_qemu_kernels import KERNEL_CASES
from tests.firmware.test_qemu_proof import _prove_models, _prove_ops

MACHINE, WHERE = "mps3-an547", "qemu-m55 (mps3-an547, KERNELS=mve)"


@pytest.fixture(scope="module")
def mve_elf():
    if not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")):
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc missing")
    pytest.importorskip("tflite_micro")
    from tests.firmware.qemu_batch import build_batch_elf

    return build_batch_elf(MACHINE, "mve")


def _matrix_case(name: str, n: int):
    """The case's model, n input samples and TFLM's output bytes for each."""
    from tflite_micro.python.tflite_micro import runtime as tflm

    rng = np.random.default_rng(sum(map(ord, name)))
    m = CASES[name](rng)
    data = m.build()
    oracle = tflm.Interpreter.from_bytes(data, arena_size=1 << 22)
    samples, want = [], []
    for _ in range(n):
        xs = [rng.integers(-128, 128, m.tensors[t].shape, dtype=np.int8) for t in m.inputs]
        for i, x in enumerate(xs):
            oracle.set_input(x, i)
        oracle.invoke()
        samples.append(xs)
        want.append(np.array(oracle.get_output(0)).tobytes())
    return data, samples, want


def test_op_matrix_on_m55_mve(mve_elf):
    from tests.firmware.qemu_batch import run_batch

    cases = {name: _matrix_case(name, 4) for name in KERNEL_CASES}
    results = run_batch(mve_elf, [(d, s) for d, s, _ in cases.values()], MACHINE)
    for (name, (_, _, want)), res in zip(cases.items(), results):
        assert res.status == 0, f"{name} refused on {WHERE}: {res.text}"
        bad = [k for k, w in enumerate(want) if res.outputs[k][0] != w]
        assert not bad, f"{name}: inputs {bad} differ from TFLM on {WHERE}"


def test_generated_ops_on_m55_mve(mve_elf):
    _prove_ops(mve_elf, qemu_subset(QUICK_SEEDS, 3, 31), MACHINE, WHERE)


@pytest.mark.long
def test_generated_ops_on_m55_mve_long(mve_elf):
    _prove_ops(mve_elf, qemu_subset(LONG_SEEDS, 9, 97), MACHINE, WHERE)


def test_models_on_m55_mve(mve_elf):
    _prove_models(mve_elf, 20, machine=MACHINE, where=WHERE)


@pytest.mark.long
def test_models_on_m55_mve_long(mve_elf):
    _prove_models(mve_elf, 200, machine=MACHINE, where=WHERE)
