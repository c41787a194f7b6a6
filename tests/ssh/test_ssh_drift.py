"""rpi4-emu vs the TFLM oracle on ResNet-8: optimised kernels drift, reference kernels match exactly.

The board is an aarch64 Debian python3 + tflite-runtime 2.14 under qemu-aarch64-static -cpu
cortex-a72, reached through the loopback sshd like a real Pi.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.drivers import driver_class

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "models"
RESNET = SHARED / "mlperf_tiny" / "pretrainedResnet_quant.tflite"
N = 300


@pytest.fixture(scope="module")
def resnet() -> bytes:
    if not RESNET.exists():
        pytest.skip(f"{RESNET} not present: the third-party models live in ../shared/models beside the repo")
    return RESNET.read_bytes()


@pytest.fixture(scope="module")
def inputs(resnet) -> np.ndarray:
    return np.random.default_rng(8).integers(-128, 128, (N, 32, 32, 3), dtype=np.int8)


@pytest.fixture(scope="module")
def oracle(resnet, inputs) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime as tflm

    it = tflm.Interpreter.from_bytes(resnet)
    outs = []
    for x in inputs:
        it.set_input(x[None], 0)
        it.invoke()
        outs.append(np.array(it.get_output(0)).reshape(-1))
    return np.stack(outs)


def _on_emu(make_target, emu_python, resnet, inputs, kernels):
    with driver_class("ssh")(make_target(python=emu_python, kernels=kernels, connect_timeout=10)) as d:
        info = d.open()
        assert info.facts["emulated"] and info.facts["machine"] == "aarch64"
        d.load(resnet, "pretrainedResnet_quant")
        res = d.run([inputs])
    return res.outputs[0].reshape(len(inputs), -1), res.ticks


def test_emu_optimized_kernels_drift_from_tflm(make_target, emu_python, resnet, inputs, oracle):
    dev, ticks = _on_emu(make_target, emu_python, resnet, inputs, "optimized")
    exact = (dev == oracle).mean()
    assert 0.9 < exact < 1.0, f"exact match {exact:.4%}"
    assert np.abs(dev.astype(np.int16) - oracle).max() <= 32  # rounding, amplified by softmax
    assert (ticks > 0).all()


def test_emu_reference_kernels_match_tflm_exactly(make_target, emu_python, resnet, inputs, oracle):
    dev, _ = _on_emu(make_target, emu_python, resnet, inputs, "reference")
    assert dev.tobytes() == oracle.astype(np.int8).tobytes()


def test_emulation_is_detected_without_the_hint(emu_python):
    """Without HB_EMULATED, uname says aarch64 while /proc/cpuinfo is the x86 host's: say emulated."""
    import os
    import subprocess

    from tools import rpi4_emu

    sysroot = rpi4_emu.CACHE / "sysroot"
    env = {k: v for k, v in os.environ.items() if k != "HB_EMULATED"}
    code = "from harness.agent import device; print(device.emulation())"  # cwd: the folder holding harness/
    out = subprocess.run(["qemu-aarch64-static", "-cpu", "cortex-a72", "-L", str(sysroot),
                          str(sysroot / "usr" / "bin" / "python3.11"), "-c", code],
                         capture_output=True, text=True, env=env, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert "user-mode emulation: aarch64" in out.stdout, out.stderr
