"""The Arm build of the engine on qemu-m4 (mps2-an386, KERNELS=dsp: the Thumb-2 asm MAC blocks
the native builds cannot reach), every output byte against TFLM, many cases per QEMU boot
(firmware/tools/batch_main.c, qemu_batch.py):
- a sampled subset of the op generator's cases, weighted to the ops with asm (CONV_2D,
  DEPTHWISE_CONV_2D, FULLY_CONNECTED): of make test's 5 008 cases every 3rd of those and every
  23rd of the others (490); of test-long's 100 000 every 9th and every 97th (2 920);
- every int8 model with seeded random and edge inputs (50 each in make test, 1 000 in long)."""

from __future__ import annotations

import shutil

import pytest

from tests.firmware.model_proof import int8_models, model_id, model_input
from tests.firmware.opgen import tflm_run
from tests.firmware.proof import qemu_seeds


@pytest.fixture(scope="module")
def batch_elf():
    if not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")):
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc missing")
    pytest.importorskip("tflite_micro")
    from tests.firmware.qemu_batch import build_batch_elf

    return build_batch_elf("mps2-an386", "dsp")


def _prove_ops(elf, seeds, machine: str = "mps2-an386", where: str = "qemu-m4 (mps2-an386, KERNELS=dsp)") -> None:
    from tests.firmware.qemu_batch import prove_on_qemu

    tally = prove_on_qemu(seeds, elf, machine=machine)
    print(f"\n{where}: " + tally.summary())
    assert not tally.failures, "\n".join(tally.failures)
    skipped = sum(tally.tflm_refused.values()) + sum(tally.ours_refused.values())
    assert sum(tally.exact.values()) + skipped == tally.cases == len(seeds)
    assert sum(tally.exact.values()) >= 0.9 * len(seeds)


def test_generated_ops_on_m4(batch_elf):
    _prove_ops(batch_elf, qemu_seeds())


@pytest.mark.long
def test_generated_ops_on_m4_long(batch_elf):
    _prove_ops(batch_elf, qemu_seeds(long=True))


def _prove_models(elf, n: int, chunk_bytes: int = 4 << 20, machine: str = "mps2-an386", where: str = "qemu-m4") -> None:
    """Each model's n inputs, in items of at most ~chunk_bytes (a model's samples may span
    several items, so vww's 1 000 inputs fit the RAM window), all against TFLM."""
    from harness.runtimes.native import NativeEngine
    from tests.firmware.qemu_batch import run_batch, split_batches

    items, wants = [], []
    for path in int8_models():
        data = path.read_bytes()
        eng = NativeEngine(data)
        info = [(i.shape, i.dtype, i.scale, i.zero_point) for i in map(eng.input_info, range(eng.num_inputs))]
        samples = [model_input(info, path.name, k) for k in range(n)]
        want = [[o.tobytes() for o in outs] for outs in tflm_run(data, samples, arena_size=16 << 20)]
        per = max(1, (chunk_bytes - len(data)) // max(1, sum(x.nbytes for x in samples[0])))
        for s in range(0, n, per):
            items.append((data, samples[s:s + per]))
            wants.append((path, s, want[s:s + per]))
    for group in split_batches(items):
        part, wants = wants[:len(group)], wants[len(group):]
        sizes = [[len(b) for b in w[0]] for _, _, w in part]
        for (path, start, want), res in zip(part, run_batch(elf, group, machine, out_sizes=sizes)):
            assert res.status == 0, f"{model_id(path)} refused on {where}: {res.text}"
            bad = [start + k for k in range(len(want)) if res.outputs[k] != want[k]]
            assert not bad, f"{model_id(path)}: inputs {bad[:10]} differ from TFLM on {where}"
    print(f"\n{where}: {len(int8_models())} models x {n} inputs, every output byte equal to TFLM's")


def test_models_on_m4(batch_elf):
    _prove_models(batch_elf, 50)


@pytest.mark.long
def test_models_on_m4_long(batch_elf):
    _prove_models(batch_elf, 1000)
