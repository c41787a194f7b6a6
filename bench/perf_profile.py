"""Where a model's instructions go on qemu-m4 / qemu-m55, function by function: the firmware runs
under QEMU's execution log (`-d in_asm,exec,nochain`: every translated block's instructions once,
then one line per block executed), twice (1 and 1 + N inferences); the difference, per firmware
symbol, over N is what one inference costs there: the kernels, the engine, and the link's
per-inference I/O (the input frame in, the outputs out). Loading the model cancels out.

    python -m bench.perf_profile ../shared/models/mlperf_tiny/vww_96_int8.tflite
    python -m bench.perf_profile model.tflite --build m4:dsp --top 15 --match 'dw|d3_|d4_|d5_'

Slow (the log of a 10 M-instruction inference is ~1 GB of text): for single ops and small models.
The invoke's SysTick count (`profile`) is printed beside the sum of the symbols, as a check.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import dataclasses
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.perf_kernels import BOARDS, build
from harness.core.config import load_target
from harness.drivers import driver_class

_TRACE = re.compile(r"\[[0-9a-f]+/([0-9a-f]+)/")


def symbols(elf: Path) -> list[tuple[int, str]]:
    """(address, name) of the ELF's functions, sorted (arm-none-eabi-nm)."""
    out = subprocess.run(["arm-none-eabi-nm", "-n", str(elf)], capture_output=True, text=True, check=True).stdout
    return [(int(p[0], 16), p[2]) for p in (line.split() for line in out.splitlines())
            if len(p) == 3 and p[1] in "tTwW"]


def per_symbol(log: Path, syms: list[tuple[int, str]]) -> collections.Counter:
    """Instructions executed per symbol: each block's executions times its instructions."""
    sizes: dict[int, int] = {}
    runs: collections.Counter = collections.Counter()
    start = None
    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith("0x") and ":" in line[:12]:
                pc = int(line.split(":", 1)[0], 16)
                if start is None:
                    start, sizes[pc] = pc, 0
                sizes[start] += 1
                continue
            start = None
            m = _TRACE.search(line) if line.startswith("Trace") else None
            if m:
                runs[int(m.group(1), 16)] += 1
    addrs = [a for a, _ in syms]
    out: collections.Counter = collections.Counter()
    for pc, n in runs.items():
        i = bisect.bisect_right(addrs, pc & ~1) - 1
        out[syms[i][1] if i >= 0 else "?"] += n * sizes.get(pc, 0)
    return out


def _session(target: str, elf: Path, model: bytes, runs: int, tmp: Path) -> tuple[collections.Counter, float]:
    """Per-symbol instructions of one QEMU session that loads the model and runs it `runs` times,
    and the invoke's median SysTick count."""
    log = tmp / f"exec-{runs}.log"
    wrapper = tmp / f"qemu-{runs}"
    wrapper.write_text(f'#!/bin/sh\nexec qemu-system-arm "$@" -d in_asm,exec,nochain -D "{log}"\n')
    wrapper.chmod(0o755)
    t = load_target(target)
    opts = {**t.options, "elf": str(elf), "profile": True, "qemu": str(wrapper), "frame_timeout": 60.0}
    with driver_class(t.kind)(dataclasses.replace(t, options=opts)) as drv:
        drv.open()
        info = drv.load(model, "profiled")
        xs = np.random.default_rng(1).integers(-128, 128, (runs, *info.inputs[0].sample_shape), dtype=np.int8)
        ticks = float(np.median(drv.run([xs]).ticks))
    return per_symbol(log, symbols(elf)), ticks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--build", default="m4:dsp", help="board:kernels (boards m4, m55; kernels c, dsp, mve)")
    ap.add_argument("--runs", type=int, default=2, help="inferences the difference covers")
    ap.add_argument("--top", type=int, default=25, help="functions listed")
    ap.add_argument("--match", default="", help="only functions whose name matches this regex")
    a = ap.parse_args(argv)
    board, _, kernels = a.build.partition(":")
    if not a.model.is_file() or f"qemu-{board}" not in BOARDS or kernels not in ("c", "dsp", "mve") or a.runs < 1:
        why = f"no such model file {a.model}" if not a.model.is_file() else f"bad --build {a.build} or --runs {a.runs}"
        print(f"perf_profile: {why}", file=sys.stderr)
        return 2
    try:
        match = re.compile(a.match)
    except re.error as e:
        print(f"perf_profile: bad --match {a.match!r}: {e}", file=sys.stderr)
        return 2
    target, model = f"qemu-{board}", a.model.read_bytes()
    elf = build(target, kernels)
    with tempfile.TemporaryDirectory(prefix="hb-profile-") as tmp:
        one, ticks = _session(target, elf, model, 1, Path(tmp))
        os.remove(Path(tmp) / "exec-1.log")
        more, _ = _session(target, elf, model, 1 + a.runs, Path(tmp))
    per = {k: (more[k] - one[k]) / a.runs for k in more if more[k] != one[k]}
    rows = sorted(((v, k) for k, v in per.items() if match.search(k)), reverse=True)
    total = sum(per.values())
    print(f"{a.model.name} on {target} KERNELS={kernels}: instructions per inference by function; all "
          f"functions {total:,.0f} (the link's I/O included), the invoke alone {ticks:,.0f} (SysTick)")
    for v, k in rows[:a.top]:
        print(f"  {k:36} {v:12,.0f}  {100 * v / total:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
