"""`make perf`: ratios measured side by side in one run (never asserted in tests).

Sections: host harness overhead vs a bare invoke() loop; metrics speed on 10 000 × 1 000;
then the link/ssh sections when their modules are present.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from harness.analysis import analyse as analysis, calibration, metrics
from harness.core import model as models
from harness.core.config import load_target
from harness.drivers import driver_class
from harness.run import inputs
from harness.runtimes.interpreters import interpreter_module

SHARED = ROOT.parent / "shared" / "models"


def bare_loop(data: bytes, arrays: list[np.ndarray]) -> float:
    """What a user would write: set_tensor, invoke, get_tensor per sample."""
    mod = interpreter_module()
    it = mod.Interpreter(model_content=data, num_threads=1)
    it.allocate_tensors()
    i_idx = it.get_input_details()[0]["index"]
    o_idx = it.get_output_details()[0]["index"]
    shape = tuple(it.get_input_details()[0]["shape"])
    x = arrays[0]
    t0 = time.perf_counter()
    for r in range(len(x)):
        it.set_tensor(i_idx, x[r].reshape(shape))
        it.invoke()
        it.get_tensor(o_idx)
    return time.perf_counter() - t0


def harness_loop(data: bytes, name: str, arrays: list[np.ndarray]) -> float:
    drv = driver_class("host")(load_target("host"))
    drv.open()
    drv.load(data, name)
    t0 = time.perf_counter()
    drv.run(arrays)
    dt = time.perf_counter() - t0
    drv.close()
    return dt


def host_overhead(path: Path, n: int) -> None:
    data, info = models.load(path)
    arrays = inputs.random_inputs(info.inputs, n, 0).arrays
    bare, ours = [], []
    for _ in range(5):  # interleaved, best of 5, so both see the same machine state
        bare.append(bare_loop(data, arrays))
        ours.append(harness_loop(data, info.name, arrays))
    b, o = min(bare) / n * 1e6, min(ours) / n * 1e6
    print(f"host  {info.name:28} bare invoke loop {b:9.1f} µs/inf   harness {o:9.1f} µs/inf   ratio {o / b:.3f}")


def metrics_speed(n: int = 10_000, classes: int = 1_000) -> None:
    rng = np.random.default_rng(0)
    dev = rng.integers(-128, 128, (n, classes), dtype=np.int8)
    ref = dev.copy()
    ref[rng.random((n, classes)) < 0.02] += 1
    flt = rng.random((n, classes), dtype=np.float32)
    t0 = time.perf_counter()
    metrics.lsb_drift(dev, ref)
    spec = analysis.TensorSpec("o", (1, classes), "int8", 1 / 256, -128)
    metrics.float_drift(analysis.dequantize(dev, spec), flt)
    metrics.top1_agreement(dev, ref)
    metrics.top1_agreement(dev, flt)
    metrics.accuracy(dev, rng.integers(0, classes, n))
    metrics.sanity(dev, 1 / 256, -128, True)
    calibration.study(analysis.dequantize(dev, spec), flt, rng.integers(0, classes, n))
    dt = time.perf_counter() - t0
    print(f"metrics drift+classification+calibration+sanity on {n} × {classes}: {dt:.3f} s (goal ≤ 1 s)")


def main() -> None:
    print("== host target: harness time per inference / bare invoke() loop (same model, same inputs)")
    host_overhead(ROOT / "models" / "digits_int8.tflite", 2000)
    resnet = SHARED / "mlperf_tiny" / "pretrainedResnet_quant.tflite"
    if resnet.exists():
        host_overhead(resnet, 300)
    else:
        print(f"(skipped ResNet-8: {resnet} not present)")
    print("== metrics speed")
    metrics_speed()
    for mod in ("bench.perf_link", "bench.perf_kernels", "bench.perf_ssh"):
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError:
            continue
        print(f"== {mod}")
        if mod == "bench.perf_kernels":
            mlperf = sorted(str(p) for p in (SHARED / "mlperf_tiny").glob("*.tflite")
                            if "float" not in p.name and "fp32" not in p.name and p.name != "pretrainedResnet.tflite")
            m.main(["--models", *mlperf] if mlperf else [])
        else:
            m.main()


if __name__ == "__main__":
    main()
