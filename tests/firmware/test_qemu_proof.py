"""The Arm build of the engine on qemu-m4 (mps2-an386, KERNELS=dsp: the Thumb-2 asm MAC blocks
the native builds cannot reach), every output byte against TFLM, many cases per QEMU boot
(firmware/tools/batch_main.c, qemu_batch.py):
- a sampled subset of the op generator's cases (every 11th of make test's 5 008: 456; every 41st
  of test-long's 100 000: 2 440);
- every int8 model with seeded random and edge inputs (50 each in make test, 1 000 in long)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from model_proof import model_input
from proof import seeds_for
from test_proof_models import _id, _int8_models
from test_proof_ops import LONG, QUICK


@pytest.fixture(scope="module")
def batch_elf():
    if not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")):
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc missing")
    pytest.importorskip("tflite_micro")
    from qemu_batch import build_batch_elf

    return build_batch_elf("mps2-an386", "dsp")


def _prove_ops(elf, seeds, machine: str = "mps2-an386", where: str = "qemu-m4 (mps2-an386, KERNELS=dsp)") -> None:
    from qemu_batch import prove_on_qemu

    tally = prove_on_qemu(seeds, elf, machine=machine)
    print(f"\n{where}: " + tally.summary())
    assert not tally.failures, "\n".join(tally.failures)
    assert sum(tally.exact.values()) >= 0.97 * len(seeds)


def test_generated_ops_on_m4(batch_elf):
    _prove_ops(batch_elf, seeds_for(QUICK)[::11])


@pytest.mark.long
def test_generated_ops_on_m4_long(batch_elf):
    _prove_ops(batch_elf, seeds_for(LONG, start=QUICK)[::41])


def _prove_models(elf, n: int, machine: str = "mps2-an386", where: str = "qemu-m4") -> None:
    from harness.native import NativeEngine
    from qemu_batch import run_batch, split_batches
    from tflite_micro.python.tflite_micro import runtime as tflm

    items, wants = [], []
    for path in _int8_models():
        data = path.read_bytes()
        eng, oracle = NativeEngine(data), tflm.Interpreter.from_bytes(data, arena_size=16 << 20)
        info = [(i.shape, i.dtype, i.scale, i.zero_point) for i in map(eng.input_info, range(eng.num_inputs))]
        samples = [model_input(info, path.name, k) for k in range(n)]
        want = []
        for xs in samples:
            for i, x in enumerate(xs):
                oracle.set_input(x, i)
            oracle.invoke()
            want.append([np.array(oracle.get_output(j)).tobytes() for j in range(eng.num_outputs)])
        items.append((data, samples))
        wants.append((path, want))
    done = 0
    for group in split_batches(items):
        part, wants = wants[:len(group)], wants[len(group):]
        sizes = [[len(b) for b in w[0]] for _, w in part]
        for (path, want), res in zip(part, run_batch(elf, group, machine, out_sizes=sizes)):
            assert res.status == 0, f"{_id(path)} refused on {where}: {res.text}"
            bad = [k for k in range(n) if res.outputs[k] != want[k]]
            assert not bad, f"{_id(path)}: inputs {bad[:10]} differ from TFLM on {where}"
            done += 1
    print(f"\n{where}: {done} models x {n} inputs, every output byte equal to TFLM's")


def test_models_on_m4(batch_elf):
    _prove_models(batch_elf, 50)


@pytest.mark.long
def test_models_on_m4_long(batch_elf):
    _prove_models(batch_elf, 1000)
