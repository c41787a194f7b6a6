"""A minimal, bounds-checked FlatBuffers reader: just what .tflite inspection needs.

Every offset is checked against the buffer so a truncated or hostile file gives a
ModelError naming the field, never an IndexError or a wrong answer. The checks are the
firmware's (firmware/core/fb.c), one for one, so that harness.verify and the boards refuse
the same files: a table's vtable and its declared size lie inside the file, a field lies
inside its table, an offset leaves room for the 4 bytes it points at.
"""

from __future__ import annotations

import struct

from ..errors import ModelError

MAX_LEN = 0x7FFFFFFF  # the firmware's limit: offsets are 32-bit, signed vtable distances


class Table:
    """One flatbuffer table at absolute position `pos` in `buf`; `path` names it in errors."""

    def __init__(self, buf: bytes, pos: int, path: str) -> None:
        self.buf, self.pos, self.path = buf, pos, path
        if len(buf) < 8 or len(buf) > MAX_LEN:
            raise ModelError(f"corrupt field {path}: a {len(buf)}-byte file cannot hold a table")
        vt = pos - self._i32(pos, "vtable offset")
        self._vt = vt
        self._vt_len = self._u16(vt, "vtable size")
        self._tbl_len = self._u16(vt + 2, "table size")
        if self._vt_len < 4 or self._vt_len % 2:
            raise ModelError(f"corrupt field {path}: vtable size {self._vt_len}")
        self._need(vt, self._vt_len, "vtable")
        if self._tbl_len < 4:
            raise ModelError(f"corrupt field {path}: table size {self._tbl_len}")
        self._need(pos, self._tbl_len, "table")

    def _need(self, at: int, n: int, what: str) -> None:
        if at < 0 or at + n > len(self.buf):
            raise ModelError(f"corrupt field {self.path}.{what}: offset {at} + {n} outside the {len(self.buf)}-byte file")

    def _u16(self, at: int, what: str) -> int:
        self._need(at, 2, what)
        return struct.unpack_from("<H", self.buf, at)[0]

    def _i32(self, at: int, what: str) -> int:
        self._need(at, 4, what)
        return struct.unpack_from("<i", self.buf, at)[0]

    def _u32(self, at: int, what: str) -> int:
        self._need(at, 4, what)
        return struct.unpack_from("<I", self.buf, at)[0]

    def _field_pos(self, slot: int, size: int, what: str) -> int | None:
        """Where field `slot` is, None when absent; ModelError when `size` bytes overrun the table."""
        entry = 4 + 2 * slot
        if entry + 2 > self._vt_len:
            return None
        off = self._u16(self._vt + entry, what)
        if not off:
            return None
        if off + size > self._tbl_len:
            raise ModelError(f"corrupt field {self.path}.{what}: {size} bytes at {off} overrun the "
                             f"{self._tbl_len}-byte table")
        return self.pos + off

    def present(self, slot: int) -> bool:
        entry = 4 + 2 * slot
        return entry + 2 <= self._vt_len and self._u16(self._vt + entry, f"field {slot}") != 0

    def scalar(self, slot: int, fmt: str, default: int | float = 0, what: str = "") -> int | float:
        at = self._field_pos(slot, struct.calcsize(fmt), what or f"field {slot}")
        if at is None:
            return default
        return struct.unpack_from("<" + fmt, self.buf, at)[0]

    def _indirect(self, slot: int, what: str) -> int | None:
        at = self._field_pos(slot, 4, what)
        if at is None:
            return None
        target = at + self._u32(at, what)
        self._need(target, 4, what)
        return target

    def table(self, slot: int, what: str) -> "Table | None":
        at = self._indirect(slot, what)
        return None if at is None else Table(self.buf, at, f"{self.path}.{what}")

    def vector_span(self, slot: int, elem: int, what: str) -> tuple[int, int] | None:
        """(start, count) of a vector of `elem`-byte items, bounds-checked."""
        at = self._indirect(slot, what)
        if at is None:
            return None
        n = self._u32(at, what)
        self._need(at + 4, n * elem, what)
        return at + 4, n

    def scalars(self, slot: int, fmt: str, what: str) -> tuple:
        size = struct.calcsize(fmt)
        span = self.vector_span(slot, size, what)
        if span is None:
            return ()
        start, n = span
        return struct.unpack_from(f"<{n}{fmt}", self.buf, start)

    def table_at(self, start: int, i: int, what: str) -> "Table":
        """Element i of a vector of tables starting at `start` (from vector_span)."""
        at = start + 4 * i
        target = at + self._u32(at, what)
        self._need(target, 4, what)
        return Table(self.buf, target, f"{self.path}.{what}[{i}]")

    def tables(self, slot: int, what: str) -> list["Table"]:
        span = self.vector_span(slot, 4, what)
        if span is None:
            return []
        start, n = span
        return [self.table_at(start, i, what) for i in range(n)]

    def string(self, slot: int, what: str) -> str:
        span = self.vector_span(slot, 1, what)
        if span is None:
            return ""
        start, n = span
        return self.buf[start:start + n].decode("utf-8", "replace")

    def bytes_span(self, slot: int, what: str) -> tuple[int, int] | None:
        """(start, length) of a [ubyte] vector, for in-place edits."""
        return self.vector_span(slot, 1, what)


def root(buf: bytes, ident: bytes, path: str) -> Table:
    """The root table of a buffer with file identifier `ident` (4 bytes at offset 4)."""
    if len(buf) < 8:
        raise ModelError(f"{path}: {len(buf)} bytes is too short for a flatbuffer")
    if buf[4:8] != ident:
        raise ModelError(f"{path}: not a {ident.decode()} flatbuffer (identifier {buf[4:8]!r})")
    return root_table(buf)


def root_table(buf: bytes) -> Table:
    """The root table whatever the identifier (the firmware does not read it)."""
    pos = struct.unpack_from("<I", buf, 0)[0] if len(buf) >= 4 else 0
    if pos + 4 > len(buf):
        raise ModelError(f"corrupt field model: root offset {pos} outside the {len(buf)}-byte file")
    return Table(buf, pos, "model")
