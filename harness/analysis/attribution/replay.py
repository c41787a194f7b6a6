"""Replay one op of a model on the host under each arithmetic variant, from the device's own
input tensors, and say which variant reproduces the device's output tensor byte for byte.

An input the device could not give back (overwritten in place, e.g. tflite-runtime's ADD) is
rebuilt by replaying its producer under each of the producer's variants: the pair that
reproduces the output names the producer's arithmetic too."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from . import conv, elementwise, nonlinear, pool
from .arith import Arith
from .graph import Op
from .variants import Variant, for_op

Kernel = Callable[[Arith, Op, list], np.ndarray]
KERNELS: dict[str, Kernel] = {
    "CONV_2D": lambda a, op, xs: conv.conv2d(a, op, xs[0]),
    "DEPTHWISE_CONV_2D": lambda a, op, xs: conv.depthwise_conv2d(a, op, xs[0]),
    "FULLY_CONNECTED": lambda a, op, xs: conv.fully_connected(a, op, xs[0]),
    "ADD": elementwise.add, "MUL": elementwise.mul, "QUANTIZE": elementwise.quantize,
    "DEQUANTIZE": elementwise.dequantize, "MEAN": elementwise.mean,
    "AVERAGE_POOL_2D": pool.average_pool, "MAX_POOL_2D": pool.max_pool, "RESHAPE": pool.reshape,
    "PAD": pool.pad, "PADV2": pool.pad, "CONCATENATION": pool.concatenation,
    "SOFTMAX": nonlinear.softmax, "LOGISTIC": nonlinear.logistic,
}
Sample = dict  # tensor index -> array, for one inference (model inputs included)


def data_inputs(op: Op) -> list[int]:
    """Tensor indices of the op's non-constant inputs (what must come from the device)."""
    if op.name == "CONCATENATION":
        return [t.index for t in op.inputs if t is not None]
    n = 2 if op.name in ("ADD", "MUL") else 1
    return [t.index for t in op.inputs[:n] if t is not None and t.data is None]


def run(op: Op, arith: Arith, xs: list[np.ndarray]) -> np.ndarray:
    """The op's output under `arith`; KeyError for an op we cannot replay."""
    return KERNELS[op.name](arith, op, xs)


def equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise byte equality (float32 compared by bits, so -0.0 and NaN count too)."""
    a, b = np.asarray(a).reshape(-1), np.asarray(b).reshape(-1)
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        a, b = a.astype(np.float32).view(np.int32), b.astype(np.float32).view(np.int32)
    return a == b


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    d = np.abs(a.reshape(-1).astype(np.float64) - b.reshape(-1).astype(np.float64))
    return float(d.max()) if d.size else 0.0


class Score:
    """Equal elements and the worst |Δ| of one candidate over all samples."""

    def __init__(self) -> None:
        self.equal = self.total = 0
        self.max_abs = 0.0

    def add(self, got: np.ndarray, want: np.ndarray) -> None:
        eq = equal(got, want)
        self.equal += int(eq.sum())
        self.total += eq.size
        self.max_abs = max(self.max_abs, _max_abs(got, want))

    @property
    def pct(self) -> float:
        return 100.0 * self.equal / self.total if self.total else 0.0

    @property
    def exact(self) -> bool:
        return self.total > 0 and self.equal == self.total


def producers(ops: Sequence[Op]) -> dict[int, Op]:
    return {t.index: op for op in ops for t in op.outputs}


def gather_inputs(op: Op, sample: Sample, prod: dict[int, Op]) -> tuple[list, Op | None, str]:
    """The op's data inputs from the sample; at most one missing one may be rebuilt from its
    producer (returned with a placeholder None). Third item: why it cannot be replayed."""
    xs, via = [], None
    for t in data_inputs(op):
        if t in sample:
            xs.append(sample[t])
            continue
        p = prod.get(t)
        if via is not None or p is None or p.name not in KERNELS or any(u not in sample for u in data_inputs(p)):
            return [], None, f"input tensor {t} is not readable on the target"
        via = p
        xs.append(None)
    return xs, via, ""


def candidates(op: Op, sample: Sample, prod: dict[int, Op], pairs: list[tuple[Variant, Variant | None]]):
    """(variant, producer variant, output) for each pair, on one sample."""
    xs, via, why = gather_inputs(op, sample, prod)
    if why:
        raise LookupError(why)
    built: dict[str, np.ndarray] = {}
    for v, pv in pairs:
        full = list(xs)
        if via is not None:
            if pv.name not in built:
                built[pv.name] = run(via, pv.arith, [sample[u] for u in data_inputs(via)])
            full[next(i for i, x in enumerate(full) if x is None)] = built[pv.name]
        yield v, pv, run(op, v.arith, full)


def pairs_for(op: Op, via: Op | None, everything: bool) -> list[tuple[Variant, Variant | None]]:
    """TFLM alone, or every variant of the op (times every variant of a rebuilt producer)."""
    mine = for_op(op.name, op)
    if via is None:
        return [(v, None) for v in (mine if everything else mine[:1])]
    theirs = for_op(via.name, via)
    if not everything:
        return [(mine[0], theirs[0])]
    return [(v, pv) for pv in theirs for v in mine]
