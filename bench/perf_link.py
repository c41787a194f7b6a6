"""Link efficiency and instructions per MAC on qemu-m4 (called by `make perf`; prints, never asserts).

Link efficiency = payload bytes/s through the protocol ÷ raw bytes/s of the same stream in the
same run (SINK/SOURCE send unframed bytes), for both directions: model upload (host → target)
and output reads (target → host, simple_add's 16 KB output). Raw and framed transfers alternate
back to back and the median of the pairwise ratios is reported, because QEMU's UART rate
follows host load (it moves by 2x between runs on a busy 2-core machine).

Instructions per MAC: per-op ticks from the profile × (1e9 / clock_hz / 2^shift) = 40
instructions per SysTick tick at 25 MHz with -icount shift=0 (one instruction = 1 ns of
virtual time; SysTick counts the 25 MHz virtual clock), ÷ the op's multiply-accumulates.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from harness.core.config import load_target
from harness.core.flatbuf import root
from harness.drivers import driver_class
from harness.protocol import wire
from harness.protocol.requests import Req

SHARED = ROOT.parent / "shared" / "models"
MLPERF = ["ad01_int8", "kws_ref_model", "vww_96_int8", "pretrainedResnet_quant"]
MAC_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def op_macs(data: bytes) -> list[tuple[str, int]]:
    """(op name, multiply-accumulates) per op; 0 for ops without MACs."""
    from harness.core.model import _op_names

    model = root(data, b"TFL3", "model")
    g = model.tables(2, "subgraphs")[0]
    tensors = g.tables(0, "tensors")
    names = _op_names(model, g)

    def shape(i: int) -> list[int]:
        return list(tensors[i].scalars(0, "i", "shape"))

    out = []
    for k, op in enumerate(g.tables(3, "operators")):
        ins, outs = op.scalars(1, "i", "inputs"), op.scalars(2, "i", "outputs")
        n_out = int(np.prod(shape(outs[0])))
        w = shape(ins[1]) if len(ins) > 1 and ins[1] >= 0 else []
        macs = {"CONV_2D": lambda: n_out * int(np.prod(w[1:])),
                "DEPTHWISE_CONV_2D": lambda: n_out * w[1] * w[2],
                "FULLY_CONNECTED": lambda: n_out * w[-1]}.get(names[k], lambda: 0)()
        out.append((names[k], macs))
    return out


def rates(d, data: bytes, out_model: bytes, reps: int = 5) -> None:
    c = d.client
    n = len(data)
    up_raw, up_frm = [], []
    for _ in range(reps):
        up_raw.append(n / c.raw_sink(n))
        up_frm.append(n / c.upload(data))
    c.replan()
    d.load(out_model, "simple_add")
    nbytes = c.plan["outputs"][0]["bytes"]
    dn_raw, dn_frm = [], []
    for _ in range(reps):
        dn_raw.append(8 * nbytes / c.raw_source(8 * nbytes))
        t0 = time.perf_counter()
        c.link.transact([Req(wire.GET_OUTPUT, wire.pack_get_output(0, 0, nbytes), reads=True)] * 8)
        dn_frm.append(8 * nbytes / (time.perf_counter() - t0))
    for what, raw, frm in (("upload   host → target", up_raw, up_frm), ("outputs  target → host", dn_raw, dn_frm)):
        r, f = statistics.median(raw), statistics.median(frm)
        pairs = statistics.median(b / a for a, b in zip(raw, frm))  # each pair ran back to back
        print(f"  {what}: payload {f / 1e3:6.1f} KB/s, raw {r / 1e3:6.1f} KB/s (medians); efficiency "
              f"{100 * pairs:5.1f} % (median of back-to-back pairs)")
        print(f"    runs KB/s: raw {', '.join(f'{x / 1e3:.1f}' for x in raw)}; framed "
              f"{', '.join(f'{x / 1e3:.1f}' for x in frm)}")


def per_mac(d) -> None:
    totals: dict[str, list[int]] = {k: [0, 0] for k in MAC_OPS}
    for name in MLPERF:
        data = (SHARED / "mlperf_tiny" / f"{name}.tflite").read_bytes()
        li = d.load(data, name)
        x = [np.random.default_rng(0).integers(-128, 128, (2, *s.shape[1:]), dtype=s.dtype) for s in li.inputs]
        res = d.run(x)
        instr = res.op_ticks[-1]
        macs = op_macs(data)
        line = []
        for op in MAC_OPS:
            m = sum(mc for (nm, mc) in macs if nm == op)
            t = sum(int(instr[k]) for k, (nm, _) in enumerate(macs) if nm == op)
            totals[op][0] += t
            totals[op][1] += m
            if m:
                line.append(f"{op} {t / m:.2f}")
        print(f"  {name:24s} upload {li.facts['upload_s']:5.1f} s ({len(data) / 1e3:.0f} KB), "
              f"{int(res.ticks[-1]) / 1e6:6.2f} M instructions/inference; instructions/MAC: {', '.join(line)}")
    print("  all four: " + ", ".join(f"{op} {t / m:.2f} instructions/MAC ({m / 1e6:.1f} M MACs)"
                                    for op, (t, m) in totals.items() if m))


def main() -> None:
    if not (SHARED / "mlperf_tiny").exists():
        print(f"(skipped: {SHARED} not present)")
        return
    t = load_target("qemu-m4")
    with driver_class(t.kind)(t) as d:
        info = d.open()
        print(f"qemu-m4: {info.board}, time unit {info.time_unit} (SysTick ticks × {info.facts['tick_scale']:g})")
        rates(d, (SHARED / "mlperf_tiny" / "kws_ref_model.tflite").read_bytes(),
              (SHARED / "tflm" / "simple_add_model.tflite").read_bytes())
        print(f"  retries during the rate runs: {d.link.retries}")
        per_mac(d) if "--rates-only" not in sys.argv else None


if __name__ == "__main__":
    main()
