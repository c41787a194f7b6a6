"""The DSP kernels as they run on a Cortex-M4 (qemu-m4): the Thumb-2 asm MAC blocks exist only
in the Arm build, so the native KERNELS=dsp tests cannot reach them. The mps2-an386 firmware is
built with KERNELS=dsp (build/mps2-an386-dsp) and every CONV_2D / DEPTHWISE_CONV_2D /
FULLY_CONNECTED / ADD / AVERAGE_POOL_2D case of the op matrix, plus the MLPerf Tiny kws and resnet
models, must give TFLM's output bytes exactly."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

import numpy as np
import pytest

from tests.firmware.fwbuild import FIRMWARE, SHARED_MODELS
from tests.firmware.test_native_ops_matrix import CASES

# vww (325 KB: ~12 s of upload at QEMU's ~28 KB/s) is left to `bench/perf_kernels.py --models`.
MLPERF = ["mlperf_tiny/kws_ref_model.tflite", "mlperf_tiny/pretrainedResnet_quant.tflite"]
KERNEL_CASES = sorted(n for n in CASES if n.startswith(("conv", "dw_", "fc_", "add_", "avgpool_")))


@pytest.fixture(scope="module")
def m4_dsp():
    """An open qemu-m4 driver on the KERNELS=dsp firmware."""
    if not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")):
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc missing")
    pytest.importorskip("tflite_micro")
    from harness.core.config import load_target
    from harness.drivers import driver_class

    out = "build/mps2-an386-dsp"
    r = subprocess.run(["make", "-C", str(FIRMWARE), "BOARD=mps2-an386", "KERNELS=dsp", f"BOARD_DIR={out}"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    t = load_target("qemu-m4")
    opts = {**t.options, "elf": str(FIRMWARE / out / "harness.elf"), "profile": False, "frame_timeout": 2.0}
    drv = driver_class(t.kind)(dataclasses.replace(t, options=opts))
    drv.open()
    yield drv
    drv.close()


def _check(drv, name: str, data: bytes, n: int) -> None:
    from tflite_micro.python.tflite_micro import runtime as tflm

    info = drv.load(data, name)
    rng = np.random.default_rng(sum(map(ord, name)))
    xs = []
    for spec in info.inputs:
        xs.append(rng.integers(-128, 128, (n, *spec.sample_shape), dtype=np.int8))
    got = drv.run(xs).outputs
    oracle = tflm.Interpreter.from_bytes(data, arena_size=8 << 20)
    for k in range(n):
        for i, x in enumerate(xs):
            oracle.set_input(x[k].reshape(oracle.get_input_details(i)["shape"]), i)
        oracle.invoke()
        for j, y in enumerate(got):
            ref = np.array(oracle.get_output(j)).ravel()
            bad = np.flatnonzero(y[k].ravel() != ref)
            assert bad.size == 0, f"{name} input {k} output {j}: {bad.size}/{ref.size} bytes differ from TFLM"


@pytest.mark.parametrize("name", KERNEL_CASES)
def test_op_matrix_on_m4_dsp(m4_dsp, name):
    _check(m4_dsp, name, CASES[name](np.random.default_rng(sum(map(ord, name)))).build(), 4)


@pytest.mark.parametrize("rel", MLPERF)
def test_mlperf_on_m4_dsp(m4_dsp, rel):
    p = SHARED_MODELS / rel
    if not p.exists():
        pytest.skip(f"{p} absent")
    _check(m4_dsp, p.stem, p.read_bytes(), 2)
