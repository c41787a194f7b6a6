"""Just enough flatbuffer reading to aim corruptions and patches at a .tflite's structure.

Field ids are the TFLite schema's: Model.operator_codes=1, subgraphs=2, buffers=4;
SubGraph.tensors=0, operators=3; Buffer.data=0; OperatorCode.deprecated_builtin_code=0, builtin_code=3.
"""

from __future__ import annotations

import struct


def u16(b: bytes, p: int) -> int:
    return struct.unpack_from("<H", b, p)[0]


def u32(b: bytes, p: int) -> int:
    return struct.unpack_from("<I", b, p)[0]


def table(b: bytes, pos: int) -> tuple[int, int, int]:
    """(table pos, vtable pos, vtable size)."""
    vt = pos - struct.unpack_from("<i", b, pos)[0]
    return pos, vt, u16(b, vt)


def field(b: bytes, t: tuple[int, int, int], fid: int) -> int | None:
    """Absolute position of field `fid`, or None when absent."""
    pos, vt, vt_size = t
    slot = 4 + 2 * fid
    if slot + 2 > vt_size:
        return None
    off = u16(b, vt + slot)
    return pos + off if off else None


def deref(b: bytes, p: int) -> int:
    return p + u32(b, p)


def vector(b: bytes, t, fid: int) -> tuple[int, int]:
    """(first element position, length); (0, 0) when absent."""
    p = field(b, t, fid)
    if p is None:
        return 0, 0
    v = deref(b, p)
    return v + 4, u32(b, v)


def vector_tables(b: bytes, t, fid: int) -> list[tuple[int, int, int]]:
    start, n = vector(b, t, fid)
    return [table(b, deref(b, start + 4 * i)) for i in range(n)]


def root(b: bytes):
    return table(b, u32(b, 0))


def buffer_data_ranges(b: bytes) -> list[tuple[int, int]]:
    """[start, end) of every Buffer.data payload: the weights, not structure."""
    out = []
    for bt in vector_tables(b, root(b), 4):
        start, n = vector(b, bt, 0)
        if n:
            out.append((start, start + n))
    return out


def structure_positions(b: bytes) -> list[int]:
    """Byte positions outside the weight payloads (vtables, offsets, shapes, quant params...)."""
    inside = bytearray(len(b))
    for s, e in buffer_data_ranges(b):
        inside[s:e] = b"\x01" * (e - s)
    return [i for i in range(len(b)) if not inside[i]]


def opcode_fields(b: bytes, index: int = 0) -> tuple[int | None, int | None]:
    """Positions of OperatorCode[index].deprecated_builtin_code (byte) and builtin_code (int32)."""
    oc = vector_tables(b, root(b), 1)[index]
    return field(b, oc, 0), field(b, oc, 3)
