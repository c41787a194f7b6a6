"""Instructions per MAC of the firmware's two kernel sets (KERNELS=c, KERNELS=dsp) on qemu-m4.

Builds the mps2-an386 firmware twice (build/mps2-an386-c, build/mps2-an386-dsp), runs one
single-op model per kernel shape under `-icount shift=0` with the INVOKE profile, and divides
each op's instruction count (SysTick ticks x 40) by its MACs. The count covers the whole op
(im2col / widening, requantisation, loop overheads), not only the MAC loop. Every output is
also checked byte for byte against the TFLM interpreter, so this is the on-target bit-exact
check of the DSP path as well.

    python bench/perf_kernels.py            # about a minute
    python bench/perf_kernels.py --models ../shared/models/mlperf_tiny/*.tflite   # whole models too
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "firmware"))

from harness.config import load_target  # noqa: E402
from harness.drivers import driver_class  # noqa: E402
from harness.errors import UnsupportedModel  # noqa: E402
from test_native_ops_matrix import conv, dwconv, fc  # noqa: E402  (random-weight op models)

SHAPES = {  # name: (builder, MACs)
    "CONV_2D 1x1 16x16x64->64": (lambda r: conv(r, in_shape=(1, 16, 16, 64), oc=64, k=(1, 1), act=1),
                                 16 * 16 * 64 * 64),
    "CONV_2D 3x3 16x16x32->32": (lambda r: conv(r, in_shape=(1, 16, 16, 32), oc=32, k=(3, 3), act=1),
                                 16 * 16 * 32 * 9 * 32),
    "DEPTHWISE_CONV_2D 3x3 32x32x64": (lambda r: dwconv(r, in_shape=(1, 32, 32, 64), mult=1, k=(3, 3), act=3),
                                       32 * 32 * 64 * 9),
    "FULLY_CONNECTED 1024->256": (lambda r: fc(r, in_shape=(1, 1024), units=256, act=1), 1024 * 256),
}


def build(kernels: str) -> Path:
    out = f"build/mps2-an386-{kernels}"
    cmd = ["make", "-C", str(ROOT / "firmware"), "BOARD=mps2-an386", f"KERNELS={kernels}", f"BOARD_DIR={out}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return ROOT / "firmware" / out / "harness.elf"


def tflm_outputs(model: bytes, xs: np.ndarray) -> np.ndarray:
    """TFLM's first output for each row of xs (the model's first input), flattened."""
    from tflite_micro.python.tflite_micro import runtime as tflm

    it = tflm.Interpreter.from_bytes(model, arena_size=8 << 20)
    outs = []
    for x in xs:
        it.set_input(x.reshape(it.get_input_details(0)["shape"]), 0)
        it.invoke()
        outs.append(np.array(it.get_output(0)).reshape(-1))
    return np.stack(outs)


def measure(elf: Path, models: dict[str, bytes], runs: int, whole: bool = False) -> dict[str, tuple[float, bool]]:
    """name -> (instructions per inference of the model's first op, or of the whole invoke with
    whole=True; median over runs, outputs equal TFLM's)."""
    t = load_target("qemu-m4")
    drv = driver_class(t.kind)(dataclasses.replace(t, options={**t.options, "elf": str(elf), "profile": True, "frame_timeout": 2.0}))
    res = {}
    with drv:
        drv.open()
        for name, data in models.items():
            try:
                info = drv.load(data, name)
            except UnsupportedModel as e:
                print(f"skipped: {e}", file=sys.stderr)
                continue
            spec = info.inputs[0]
            row = spec.shape[1:] if spec.shape and spec.shape[0] == 1 else spec.shape
            xs = np.random.default_rng(1).integers(-128, 128, (runs, *row), dtype=np.int8)
            rr = drv.run([xs])
            same = np.array_equal(rr.outputs[0].reshape(runs, -1), tflm_outputs(data, xs))
            res[name] = (float(np.median(rr.ticks if whole else rr.op_ticks[:, 0])), same)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2, help="inferences per model (median)")
    ap.add_argument("--models", nargs="*", default=[], help="whole .tflite models (one int8 input) to time too")
    a = ap.parse_args(argv)
    rng = np.random.default_rng(2026)
    models = {name: b(rng).build() for name, (b, _) in SHAPES.items()}
    elfs = {k: build(k) for k in ("c", "dsp")}
    results = {k: measure(elfs[k], models, a.runs) for k in elfs}
    whole = {Path(m).stem: Path(m).read_bytes() for m in a.models}
    whole_res = {k: measure(elfs[k], whole, a.runs, whole=True) for k in elfs} if whole else {}
    print(f"{'op (qemu-m4, -icount shift=0)':36} {'MACs':>9} {'c instr/MAC':>12} {'dsp instr/MAC':>14} "
          f"{'speed-up':>9}  bit-exact c/dsp")
    ok = True
    for name, (_, macs) in SHAPES.items():
        (ic, sc), (id_, sd) = results["c"][name], results["dsp"][name]
        ok &= sc and sd
        print(f"{name:36} {macs:9d} {ic / macs:12.2f} {id_ / macs:14.2f} {ic / id_:8.2f}x  "
              f"{'yes' if sc else 'NO'}/{'yes' if sd else 'NO'}")
    if whole:
        print(f"\n{'whole model (instructions / inference)':40} {'c':>12} {'dsp':>12} {'speed-up':>9}  bit-exact c/dsp")
    for name in (n for n in whole if n in whole_res["c"] and n in whole_res["dsp"]):
        (ic, sc), (id_, sd) = whole_res["c"][name], whole_res["dsp"][name]
        ok &= sc and sd
        print(f"{name:40} {ic:12.0f} {id_:12.0f} {ic / id_:8.2f}x  {'yes' if sc else 'NO'}/{'yes' if sd else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
