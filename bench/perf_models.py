"""The per-model half of `bench/perf_kernels.py`: MACs per op read from a .tflite, and the table of
instructions per MAC per model and op type (whole model and each MAC op type, the other ops as
instructions per inference).

A MAC is one int8 multiply-accumulate of the reference kernels: CONV_2D output elements x
filter height x width x input channels per group, DEPTHWISE_CONV_2D output elements x filter
height x width, FULLY_CONNECTED output elements x accumulation depth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from harness.core.flatbuf import root
from harness.core.model import op_tensors

MAC_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
SHORT = {"CONV_2D": "CONV_2D", "DEPTHWISE_CONV_2D": "DEPTHWISE", "FULLY_CONNECTED": "FC"}


def op_macs(data: bytes, where: str = "model") -> list[tuple[str, int]]:
    """(op name, MACs) per op in execution order; 0 MACs for the ops that do no MACs."""
    g = root(data, b"TFL3", where).tables(2, "subgraphs")[0]
    tensors, nodes = g.tables(0, "tensors"), g.tables(3, "operators")

    def shape(t: int) -> tuple[int, ...]:
        return tuple(int(d) for d in tensors[t].scalars(0, "i", "shape"))

    out = []
    for ot in op_tensors(data, where):
        macs = 0
        if ot.op in MAC_OPS:
            n_out = 1
            for d in ot.spec.shape:
                n_out *= d
            f = shape(nodes[ot.index].scalars(1, "i", "inputs")[1])
            macs = n_out * (f[1] * f[2] * (f[3] if ot.op == "CONV_2D" else 1) if len(f) == 4 else f[-1])
        out.append((ot.op, macs))
    return out


@dataclass
class ModelRun:
    """One model on one build: instructions of the whole invoke and of each op, outputs exact."""

    name: str
    ops: list[tuple[str, int]]  # (op, MACs)
    whole: float
    per_op: list[float]
    exact: bool

    @property
    def macs(self) -> int:
        return sum(m for _, m in self.ops)

    def by_type(self) -> dict[str, tuple[float, int]]:
        """op type -> (instructions, MACs); non-MAC ops together under 'other'."""
        acc: dict[str, list] = {}
        for (op, m), t in zip(self.ops, self.per_op):
            k = op if op in MAC_OPS else "other"
            a = acc.setdefault(k, [0.0, 0])
            a[0] += t
            a[1] += m
        return {k: (a[0], a[1]) for k, a in acc.items()}


def _sum_runs(runs: list[ModelRun]) -> ModelRun:
    ops, per_op = [], []
    for r in runs:
        ops += r.ops
        per_op += r.per_op
    return ModelRun(f"all {len(runs)}", ops, sum(r.whole for r in runs), per_op, all(r.exact for r in runs))


def _fmt_types(r: ModelRun) -> str:
    t = r.by_type()
    cells = [f"{SHORT[k]} {t[k][0] / t[k][1]:.2f}" for k in MAC_OPS if k in t and t[k][1]]
    if "other" in t:
        cells.append(f"other ops {t['other'][0] / 1e3:.1f} k")
    return ", ".join(cells)


def table(title: str, runs: list[ModelRun], base: list[ModelRun] | None = None, base_name: str = "") -> list[str]:
    """One line per model and one for all of them: instructions per inference, per MAC, per op
    type per MAC; with base, the ratio to base's whole-model figure."""
    rows = [title, f"{'model':24} {'MACs':>10} {'instr/inf':>11} {'instr/MAC':>9}"
                   + (f" {'/ ' + base_name:>10}" if base else "") + "  exact  per op type (instr/MAC)"]
    every = runs + ([_sum_runs(runs)] if len(runs) > 1 else [])
    bases = (base + ([_sum_runs(base)] if len(base) > 1 else [])) if base else [None] * len(every)
    for r, b in zip(every, bases):
        ratio = f" {r.whole / b.whole:10.2f}" if b else ""
        rows.append(f"{r.name:24} {r.macs:10d} {r.whole / 1e6:9.2f} M {r.whole / r.macs:9.2f}{ratio}  "
                    f"{'yes' if r.exact else 'NO':5}  {_fmt_types(r)}")
    return rows


def per_op_lines(r: ModelRun) -> list[str]:
    """Each op of one run: instructions, MACs, instructions per MAC."""
    rows = [f"{r.name}: op, instructions, MACs, instructions / MAC"]
    for i, ((op, m), t) in enumerate(zip(r.ops, r.per_op)):
        rows.append(f"  {i:3d} {op:20} {t:11.0f} {m:9d} " + (f"{t / m:6.2f}" if m else ""))
    return rows
