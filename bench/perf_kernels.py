"""Instructions per MAC of the firmware's kernel sets: KERNELS=c and dsp on qemu-m4, dsp and mve
(Helium) on qemu-m55.

Builds the firmware per board and kernel set (build/<board>-<kernels>), runs one single-op
model per kernel shape, and the whole models given with --models, under `-icount shift=0` with
the INVOKE profile: instructions = SysTick ticks x 40 on mps2-an386 (25 MHz), x 31.25 on
mps3-an547 (32 MHz). The count covers the whole op (im2col / widening, requantisation, loop
overheads), not only the MAC loop. Every output is also checked byte for byte against the TFLM
interpreter, so this is the on-target bit-exact check of each kernel set as well.

On qemu-m55 an instruction is what QEMU retires: an MVE instruction counts one however many
lanes (beats) it works on, as does a scalar one; it is not a cycle count of a real M55.

    python -m bench.perf_kernels            # the kernel shapes, about a minute
    python -m bench.perf_kernels --models ../shared/models/mlperf_tiny/*.tflite   # whole models too
    python -m bench.perf_kernels --builds m4:dsp --no-shapes --per-op --models ...   # one build, every op
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from bench.perf_models import ModelRun, op_macs, per_op_lines, table
from harness.core.config import load_target
from harness.drivers import driver_class
from harness.errors import UnsupportedModel
from tools.op_models import conv, dwconv, fc  # random-weight op models

SHAPES = {  # name: (builder, MACs)
    "CONV_2D 1x1 16x16x64->64": (lambda r: conv(r, in_shape=(1, 16, 16, 64), oc=64, k=(1, 1), act=1),
                                 16 * 16 * 64 * 64),
    "CONV_2D 3x3 16x16x32->32": (lambda r: conv(r, in_shape=(1, 16, 16, 32), oc=32, k=(3, 3), act=1),
                                 16 * 16 * 32 * 9 * 32),
    "DEPTHWISE_CONV_2D 3x3 32x32x64": (lambda r: dwconv(r, in_shape=(1, 32, 32, 64), mult=1, k=(3, 3), act=3),
                                       32 * 32 * 64 * 9),
    "FULLY_CONNECTED 1024->256": (lambda r: fc(r, in_shape=(1, 1024), units=256, act=1), 1024 * 256),
}
BOARDS = {"qemu-m4": "mps2-an386", "qemu-m55": "mps3-an547"}


def build(target: str, kernels: str) -> Path:
    board = BOARDS[target]
    out = f"build/{board}-{kernels}"
    cmd = ["make", "-C", str(ROOT / "firmware"), f"BOARD={board}", f"KERNELS={kernels}", f"BOARD_DIR={out}"]
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


def measure(target: str, elf: Path, models: dict[str, bytes], runs: int) -> dict[str, ModelRun]:
    """name -> the model's instructions (whole invoke and per op: medians over runs) and whether
    every output equals TFLM's."""
    t = load_target(target)
    drv = driver_class(t.kind)(dataclasses.replace(t, options={**t.options, "elf": str(elf), "profile": True,
                                                               "frame_timeout": 2.0}))
    res = {}
    with drv:
        drv.open()
        for name, data in models.items():
            try:
                info = drv.load(data, name)
            except UnsupportedModel as e:
                print(f"skipped: {e}", file=sys.stderr)
                continue
            xs = np.random.default_rng(1).integers(-128, 128, (runs, *info.inputs[0].sample_shape), dtype=np.int8)
            rr = drv.run([xs])
            same = np.array_equal(rr.outputs[0].reshape(runs, -1), tflm_outputs(data, xs))
            res[name] = ModelRun(name, op_macs(data, name), float(np.median(rr.ticks)),
                                 [float(v) for v in np.median(rr.op_ticks, axis=0)], same)
    return res


def shapes_table(res: dict[str, dict[str, ModelRun]], a: str, b: str, title: str) -> tuple[list[str], bool]:
    """The kernel shapes: instructions per MAC of the first op on builds a and b."""
    rows = [title, f"{'op':36} {'MACs':>9} {a + ' instr/MAC':>16} {b + ' instr/MAC':>16} {'speed-up':>9}  bit-exact"]
    ok = True
    for name, (_, macs) in SHAPES.items():
        ra, rb = res[a].get(name), res[b].get(name)
        if not (ra and rb):
            continue
        ok &= ra.exact and rb.exact
        ia, ib = ra.per_op[0], rb.per_op[0]
        rows.append(f"{name:36} {macs:9d} {ia / macs:16.2f} {ib / macs:16.2f} {ia / ib:8.2f}x  "
                    f"{'yes' if ra.exact else 'NO'}/{'yes' if rb.exact else 'NO'}")
    return rows, ok


def _tables(sres, mres, names, whole) -> tuple[list[str], bool]:
    lines, ok = [], True
    for a, b, title in (("c", "dsp", "kernel shapes on qemu-m4 (-icount shift=0)"),
                        ("m55 dsp", "m55 mve", "kernel shapes on qemu-m55 (-icount shift=0; an MVE instruction counts 1)")):
        if a in sres and b in sres:
            more, good = shapes_table(sres, a, b, title)
            lines += more + [""]
            ok &= good
    pick = {k: [r[n] for n in names] for k, r in mres.items()}
    for key, title, base, bname in (("c", "qemu-m4, KERNELS=c", None, ""), ("dsp", "qemu-m4, KERNELS=dsp", "c", "c"),
                                    ("m55 dsp", "qemu-m55, KERNELS=dsp", "dsp", "m4 dsp"),
                                    ("m55 mve", "qemu-m55, KERNELS=mve (Helium; an MVE instruction counts 1)",
                                     "dsp", "m4 dsp")):
        if key in pick and names:
            lines += table(f"whole models on {title}", pick[key], pick.get(base), bname) + [""]
            ok &= all(r.exact for r in pick[key])
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2, help="inferences per model (median)")
    ap.add_argument("--models", nargs="*", default=[], help="whole .tflite models (one int8 input) to time too")
    ap.add_argument("--builds", default="m4:c,m4:dsp,m55:dsp,m55:mve",
                    help="board:kernels list (boards m4, m55; kernels c, dsp, mve)")
    ap.add_argument("--no-shapes", action="store_true", help="whole models only")
    ap.add_argument("--per-op", action="store_true", help="also list every op of each model")
    a = ap.parse_args(argv)
    bad = [m for m in a.models if not Path(m).is_file()]
    builds = [b.split(":") for b in a.builds.split(",")]
    if bad or any(len(b) != 2 or f"qemu-{b[0]}" not in BOARDS or b[1] not in ("c", "dsp", "mve") for b in builds):
        print(f"perf_kernels: {'no such model file ' + bad[0] if bad else 'bad --builds ' + a.builds}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(2026)
    shapes = {} if a.no_shapes else {name: b(rng).build() for name, (b, _) in SHAPES.items()}
    whole = {Path(m).stem: Path(m).read_bytes() for m in a.models}
    sres, mres = {}, {}
    for board, k in builds:
        key = ("m55 " if board == "m55" else "") + k
        elf = build(f"qemu-{board}", k)
        sres[key] = measure(f"qemu-{board}", elf, shapes, a.runs) if shapes else {}
        mres[key] = measure(f"qemu-{board}", elf, whole, a.runs) if whole else {}
    names = [n for n in whole if all(n in r for r in mres.values())]
    lines, ok = _tables(sres, mres, names, whole)
    if a.per_op:
        for k, r in mres.items():
            lines += [f"per op, {k}:"] + [x for n in names for x in per_op_lines(r[n])] + [""]
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
