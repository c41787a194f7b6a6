"""Our own bounds-checked verifier: the structural checks of the firmware's model reader
(firmware/core/model.c over fb.c), in the same order and with the same words.

Every model passes here before a third-party interpreter (tflite-runtime, ai-edge-litert, the
TFLM PyPI interpreter) sees it: those parse hostile files with unchecked offsets and can kill
the process. What the firmware refuses as *unsupported* (an op, a type, a size limit of the
board) is not checked here — the host runtimes may well run it; only what makes the file
unsound is. Subgraphs after the first, which the firmware never reads, get the same checks.
tests/host/test_verify_agrees.py proves the agreement over a corpus of corrupted models.
"""

from __future__ import annotations

import struct
from typing import Callable, NamedTuple, TypeVar

from ..errors import ModelError
from .flatbuf import Table, root_table

T = TypeVar("T")
# Bytes per element of TFLite's fixed-width tensor types; string, int4 (packed), resource and
# variant have none, so their buffers' sizes are not checked.
MAX_TENSOR_BYTES = 0x7FFFFFFF  # no TFLite runtime sizes a tensor beyond this; flatbuffers stop at 2 GiB too
ELEM_BYTES = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 8: 8, 9: 1, 10: 8, 11: 16, 12: 8, 15: 4, 16: 2}


class _Corrupt(Exception):
    """The firmware's words for what is wrong (without the "corrupt model: " prefix)."""


class _Vec(NamedTuple):
    start: int
    n: int


def verify(data: bytes, where: str) -> None:
    """Return when the model is structurally sound; ModelError "<where>: corrupt model: …" else."""
    try:
        _model(bytes(data))
    except _Corrupt as e:
        raise ModelError(f"{where}: corrupt model: {e}; the file is truncated or not a .tflite model") from None


def external_buffers(data: bytes) -> int:
    """How many buffers keep their data after the flatbuffer (the large-model layout, Buffer.offset):
    the TFLM interpreter reads them wrong, without a word, so it must not be a reference for such a
    file. For a model verify() accepted."""
    m = root_table(bytes(data))
    return sum(1 for b in m.tables(4, "buffers") if not (b.vector_span(0, 1, "data") or (0, 0))[1]
               and int(b.scalar(1, "Q")) > 1)


def _at(msg: str, fn: Callable[..., T], *args) -> T:
    """fn(*args), with any bounds failure reported in the firmware's words `msg`."""
    try:
        return fn(*args)
    except ModelError:
        raise _Corrupt(msg) from None


def _vec(t: Table, slot: int, elem: int, msg: str) -> _Vec:
    return _Vec(*(_at(msg, t.vector_span, slot, elem, msg) or (0, 0)))


def _model(data: bytes) -> None:
    """hb_model_read: root, operator codes, subgraphs, buffers; then every subgraph."""
    m = _at(f"root table out of bounds ({len(data)} bytes)", root_table, data)
    codes = _vec(m, 1, 4, "operator_codes out of bounds")
    try:
        graphs = _Vec(*(m.vector_span(2, 4, "subgraphs") or (0, 0)))
    except ModelError:
        graphs = _Vec(0, 0)
    if graphs.n < 1:
        raise _Corrupt("no subgraph")
    buffers = _vec(m, 4, 4, "buffers out of bounds")
    for k in range(graphs.n):
        sg = _at(f"subgraph {k} out of bounds", m.table_at, graphs.start, k, "subgraphs")
        _subgraph(m, sg, k, codes, buffers)


def _subgraph(m: Table, sg: Table, k: int, codes: _Vec, buffers: _Vec) -> None:
    """Tensors, then graph inputs/outputs, then operators — the firmware's order."""
    pre = "" if k == 0 else f"subgraph {k} "
    tensors = _vec(sg, 0, 4, f"subgraph {k} tensors out of bounds")
    ops = _vec(sg, 3, 4, f"subgraph {k} operators out of bounds")
    for i in range(tensors.n):
        t = _at(f"{pre}tensor {i} table out of bounds", sg.table_at, tensors.start, i, "tensors")
        _tensor(m, t, f"{pre}tensor {i}", buffers)
    _graph_io(sg, pre, "subgraph" if k == 0 else f"subgraph {k}", tensors.n)
    for i in range(ops.n):
        t = _at(f"{pre}operator {i} table out of bounds", sg.table_at, ops.start, i, "operators")
        _operator(m, t, f"{pre}node {i}", codes, tensors.n)


def _tensor(m: Table, t: Table, who: str, buffers: _Vec) -> None:
    """read_tensor: shape, fields, the buffer it names (and its size), quantisation."""
    shape = _vec(t, 0, 4, f"{who} fields out of bounds")  # the firmware: one message for all
    dims = struct.unpack_from(f"<{shape.n}i", m.buf, shape.start) if shape.n else ()
    try:
        ttype, bi = int(t.scalar(1, "B")), int(t.scalar(2, "I"))
        t.scalar(5, "B")
    except ModelError:
        raise _Corrupt(f"{who} fields out of bounds") from None
    _at(f"{who} fields out of bounds", t.table, 6, "sparsity")  # the firmware refuses any sparse tensor
    bad = next((i for i, d in enumerate(dims) if d < 0), None)
    if bad is not None:  # the firmware refuses any dim <= 0 as unsupported; below 0 no runtime may see it
        raise _Corrupt(f"{who} dim {bad} is {dims[bad]}")
    es = ELEM_BYTES.get(ttype, 0)
    need = None
    if es and all(d > 0 for d in dims):
        need = es
        for d in dims:
            need *= d
    if need is not None and need > MAX_TENSOR_BYTES:  # the firmware: "model too big" past 64 MB
        raise _Corrupt(f"{who} shape {list(dims)} needs {need} bytes (over 2 GiB: a damaged shape)")
    if bi >= buffers.n:
        raise _Corrupt(f"{who} buffer index {bi} out of range ({buffers.n} buffers)")
    b = _at(f"buffer {bi} out of bounds", m.table_at, buffers.start, bi, "buffers")
    span = _buffer(m, b, who)
    if span is not None:
        start, n = span
        if need is not None and n != need:
            raise _Corrupt(f"{who} buffer {bi} holds {n & 0xFFFFFFFF} bytes, shape needs {need}")
        # int64 (16x8 biases) needs only 4, as in the firmware (model.c): its kernels memcpy them,
        # and TensorFlow 2.21's converter leaves them at 4 mod 8.
        if es > 1 and start % min(es, 4):
            raise _Corrupt(f"{who} data misaligned (model buffer must be 16-byte aligned)")
    _quantization(t, who)


def _buffer(m: Table, b: Table, who: str) -> tuple[int, int] | None:
    """read_buffer: (start, length) of the tensor's data in the file, None for no data."""
    start, n = _at(f"{who} buffer data out of bounds", b.vector_span, 0, 1, "data") or (0, 0)
    try:
        off, size = int(b.scalar(1, "Q")), int(b.scalar(2, "Q"))
    except ModelError:
        raise _Corrupt(f"{who} buffer offset field out of bounds") from None
    if not n and off > 1:  # large-model layout: the data lies after the flatbuffer
        if off > len(m.buf) or size > len(m.buf) - off:
            raise _Corrupt(f"{who} buffer offset {off & 0xFFFFFFFF} out of range")
        return off, size
    return (start, n) if n else None


def _quantization(t: Table, who: str) -> None:
    """read_quant: scale and zero-point vectors in bounds, zero point within int16/uint16."""
    q = _at(f"{who} quantization out of bounds", t.table, 4, "quantization")
    if q is None:
        return
    try:
        q.vector_span(2, 4, "scale")
        zp = q.vector_span(3, 8, "zero_point")
        q.scalar(6, "i")
    except ModelError:
        raise _Corrupt(f"{who} quantization fields out of bounds") from None
    if zp and zp[1] and not -32768 <= struct.unpack_from("<q", q.buf, zp[0])[0] <= 65535:
        raise _Corrupt(f"{who} zero point out of range")


def _graph_io(sg: Table, pre: str, name: str, num_tensors: int) -> None:
    """read_io: the graph's input and output tensor indices."""
    try:
        vi = _Vec(*(sg.vector_span(1, 4, "inputs") or (0, 0)))
        vo = _Vec(*(sg.vector_span(2, 4, "outputs") or (0, 0)))
    except ModelError:
        raise _Corrupt(f"{name} inputs/outputs out of bounds") from None
    if not vo.n:
        raise _Corrupt(f"{name} has no outputs")
    for what, v in (("input", vi), ("output", vo)):
        for i, ti in enumerate(struct.unpack_from(f"<{v.n}i", sg.buf, v.start) if v.n else ()):
            if not 0 <= ti < num_tensors:
                raise _Corrupt(f"{pre}graph {what} {i} tensor index {ti} out of range ({num_tensors} tensors)")


def _operator(m: Table, op: Table, who: str, codes: _Vec, num_tensors: int) -> None:
    """read_op: opcode, input/output tensor indices (-1 = absent), builtin options."""
    oi = int(_at(f"{who} opcode index out of bounds", op.scalar, 0, "I"))
    if oi >= codes.n:
        raise _Corrupt(f"{who} opcode index {oi} out of range ({codes.n} codes)")
    try:
        oc = m.table_at(codes.start, oi, "operator_codes")
        oc.scalar(0, "b")
        oc.scalar(3, "i")
    except ModelError:
        raise _Corrupt(f"operator code {oi} out of bounds") from None
    try:
        lists = (("inputs", _Vec(*(op.vector_span(1, 4, "inputs") or (0, 0)))),
                 ("outputs", _Vec(*(op.vector_span(2, 4, "outputs") or (0, 0)))))
    except ModelError:
        raise _Corrupt(f"{who} inputs/outputs out of bounds") from None
    for what, v in lists:
        for i, ti in enumerate(struct.unpack_from(f"<{v.n}i", op.buf, v.start) if v.n else ()):
            if not -1 <= ti < num_tensors:
                raise _Corrupt(f"{who} tensor {i} index {ti} out of range ({num_tensors} tensors)")
    _at(f"{who} builtin options out of bounds", op.table, 4, "builtin_options")
