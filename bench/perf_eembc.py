"""The MLPerf Tiny protocol on qemu-m4 beside our framed link (prints, never asserts):
input upload rate of `db` commands vs the framed link's upload rate in the same run, device
instructions per inference both ways, and the runner's performance-mode figures.

    python -m bench.perf_eembc [--samples 20] [MODEL.tflite …]   (default: kws_ref_model)
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from harness.core import model as models
from harness.core.config import load_target
from harness.drivers import driver_class
from harness.drivers.eembc import values as ev

SHARED = ROOT.parent / "shared" / "models"


def driver(name: str):
    t = load_target(name)
    return driver_class(t.kind)(t)


def eembc_side(data: bytes, name: str, x: np.ndarray) -> dict:
    with driver("qemu-m4-eembc") as d:
        d.open()
        d.load(data, name)
        up, inf, ticks = [], [], []
        for row in x:
            raw = ev.encode_input(row, d._spec, d._enc)
            t0 = time.perf_counter()
            d._upload(raw)
            t1 = time.perf_counter()
            reply = d._infer(1, 0)
            up.append((len(raw), t1 - t0))
            inf.append(time.perf_counter() - t1)
            ticks.append(reply.elapsed_us * d.tick_scale())
        perf = d.figures([x])["eembc_performance"]
    return {"upload_Bps": sum(b for b, _ in up) / sum(s for _, s in up),
            "upload_s": statistics.median(s for _, s in up),
            "infer_s": statistics.median(inf), "instr": statistics.median(ticks), "perf": perf}


def framed_side(data: bytes, name: str, x: np.ndarray) -> dict:
    with driver("qemu-m4") as d:
        d.open()
        load = d.load(data, name)
        res = d.run([x])
    return {"upload_Bps": load.facts["upload_bytes"] / load.facts["upload_s"], "instr": float(np.median(res.ticks))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=[str(SHARED / "mlperf_tiny" / "kws_ref_model.tflite")])
    ap.add_argument("--samples", type=int, default=20)
    a = ap.parse_args()
    for path in a.models:
        data, info = models.load(path)
        spec = info.inputs[0]
        x = np.random.default_rng(0).integers(-128, 128, (a.samples, *spec.shape[1:])).astype(np.int8)
        ee, fr = eembc_side(data, info.name, x), framed_side(data, info.name, x)
        p = ee["perf"]
        print(f"{info.name}: input {int(np.prod(spec.shape))} bytes, {a.samples} samples on qemu-m4")
        print(f"  upload: db commands {ee['upload_Bps']:.0f} B/s ({ee['upload_s'] * 1e3:.0f} ms a sample), framed "
              f"LOAD {fr['upload_Bps']:.0f} B/s: ratio {ee['upload_Bps'] / fr['upload_Bps']:.3f}")
        print(f"  infer 1 0 round trip {ee['infer_s'] * 1e3:.0f} ms; instructions per inference: m-lap-us "
              f"{ee['instr']:.0f}, framed path {fr['instr']:.0f} (difference {ee['instr'] - fr['instr']:+.0f})")
        print(f"  performance mode: {len(p['windows'])} windows of infer {p['n']} {p['warmup']}: median "
              f"{p['median_throughput_inf_s']:.2f} inf./s of virtual time, {p['median_per_inference']:.0f} "
              f"instructions per inference")


if __name__ == "__main__":
    main()
