"""What a replay needs of one op, read from the .tflite with our bounds-checked reader: its
tensors (shape, type, per-tensor or per-channel quantisation, constant data) and its builtin
options table. Field numbers are the TFLite schema's (schema.fbs)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.flatbuf import Table, root
from ...core.model import _op_names
from ...core.tflite import TENSOR_TYPES
from ...errors import ModelError

CONSTANT_DTYPES = ("float32", "int32", "int8", "uint8", "int16", "int64")  # constants read as arrays


@dataclass(frozen=True)
class Tensor:
    """One tensor of the graph; `data` is set for constants (weights, bias, shapes, axes)."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    qdim: int
    data: np.ndarray | None

    @property
    def scale(self) -> float:
        return self.scales[0] if self.scales else 0.0

    @property
    def zp(self) -> int:
        return self.zero_points[0] if self.zero_points else 0


@dataclass(frozen=True)
class Op:
    """One node: its type, input/output tensors (None for an omitted optional input), options."""

    index: int
    name: str
    inputs: tuple[Tensor | None, ...]
    outputs: tuple[Tensor, ...]
    options: Table | None

    def opt(self, slot: int, fmt: str, default: int | float) -> int | float:
        """A scalar field of the builtin options (the schema default when absent)."""
        return default if self.options is None else self.options.scalar(slot, fmt, default, f"option {slot}")


def _tensor(model: Table, t: Table, index: int) -> Tensor:
    dtype = TENSOR_TYPES.get(int(t.scalar(1, "b", 0, "type")), "unknown")
    q = t.table(4, "quantization")
    scales = tuple(float(s) for s in q.scalars(2, "f", "scale")) if q else ()
    zps = tuple(int(z) for z in q.scalars(3, "q", "zero_point")) if q else ()
    qdim = int(q.scalar(6, "i", 0, "quantized_dimension")) if q else 0
    shape = tuple(int(d) for d in t.scalars(0, "i", "shape"))
    data = None
    buffers = model.tables(4, "buffers")
    b = int(t.scalar(2, "I", 0, "buffer"))
    if 0 < b < len(buffers):
        span = buffers[b].bytes_span(0, "data")
        if span is not None and span[1] and dtype in CONSTANT_DTYPES:
            start, n = span
            item = np.dtype(dtype).itemsize
            count = int(np.prod(shape)) if shape else 1
            if n != count * item:
                raise ModelError(f"corrupt field tensors[{index}].buffer: {n} bytes for shape {shape} {dtype}")
            data = np.frombuffer(model.buf, dtype, count, start).reshape(shape).copy()
    return Tensor(index, t.string(3, "name"), shape, dtype, scales, zps, qdim, data)


def read_ops(data: bytes, where: str) -> list[Op]:
    """Every op of the first subgraph, in execution order, with its tensors and options."""
    model = root(data, b"TFL3", where)
    graphs = model.tables(2, "subgraphs")
    if not graphs:
        raise ModelError(f"{where}: model has no subgraph")
    g = graphs[0]
    raw = g.tables(0, "tensors")
    cache: dict[int, Tensor] = {}

    def tensor(i: int) -> Tensor | None:
        if i < 0:
            return None
        if i >= len(raw):
            raise ModelError(f"{where}: corrupt op tensor index {i} of {len(raw)}")
        if i not in cache:
            cache[i] = _tensor(model, raw[i], i)
        return cache[i]

    names = _op_names(model, g)  # bounds-checked opcode indices, names from the schema
    ops = []
    for k, op in enumerate(g.tables(3, "operators")):
        ins = tuple(tensor(int(i)) for i in op.scalars(1, "i", "inputs"))
        outs = tuple(tensor(int(i)) for i in op.scalars(2, "i", "outputs"))
        ops.append(Op(k, names[k], ins, tuple(t for t in outs if t is not None), op.table(4, "options")))
    return ops


def model_inputs(data: bytes, where: str) -> list[int]:
    """Tensor indices of the model's inputs (subgraph 0), in order."""
    g = root(data, b"TFL3", where).tables(2, "subgraphs")
    return [int(i) for i in g[0].scalars(1, "i", "inputs")] if g else []
