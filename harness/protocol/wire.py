"""Frames of the wire protocol (docs/protocol.md). Stdlib only, and it must stay so: it is shipped
to Linux boards with the agent (harness.agent.SHIPPED). The firmware states the same constants in
C (serve/commands.h, core/engine.h); tests/host/test_facts_once.py proves both equal.

frame = COBS(type u8 | session u32 | seq u32 | body | crc32 le) + 0x00; a bad frame is dropped,
never raised. (session, seq) names a request for good: the host opens a new session at every
HELLO and numbers its requests 1, 2, … within it, so a copy delivered any time later never
passes for a newer request or reply (8-bit seqs did, one wrap later).
"""

from __future__ import annotations

import json
import struct
import zlib
from collections import namedtuple

VERSION = 2

HELLO, LOAD_BEGIN, LOAD_CHUNK, LOAD_END = 0x01, 0x02, 0x03, 0x04
SET_INPUT, INVOKE, GET_OUTPUT, GET_TENSOR = 0x05, 0x06, 0x07, 0x08
TENSOR_INFO, RESET, SINK, SOURCE = 0x09, 0x0A, 0x0B, 0x0C
REPLY = 0x80
NAK = 0xFE  # target → host: (session, seq) = what it expects; body: why, what it got, boot id
ERROR = 0xFF
NAMES = {HELLO: "HELLO", LOAD_BEGIN: "LOAD_BEGIN", LOAD_CHUNK: "LOAD_CHUNK", LOAD_END: "LOAD_END",
         SET_INPUT: "SET_INPUT", INVOKE: "INVOKE", GET_OUTPUT: "GET_OUTPUT", GET_TENSOR: "GET_TENSOR",
         TENSOR_INFO: "TENSOR_INFO", RESET: "RESET", SINK: "SINK", SOURCE: "SOURCE", NAK: "NAK", ERROR: "ERROR"}

# ERROR codes: 1..6 are the firmware engine's hb_error_t codes.
E_CORRUPT, E_UNSUPPORTED, E_ARENA, E_TOO_BIG, E_BAD_INPUT, E_NOT_LOADED = 1, 2, 3, 4, 5, 6
E_BAD_REQUEST, E_BAD_STATE, E_SHA_MISMATCH, E_TOO_LARGE, E_INCOMPLETE = 16, 17, 18, 19, 20
E_RUNTIME = 32
ERROR_NAMES = {1: "CORRUPT", 2: "UNSUPPORTED", 3: "ARENA", 4: "TOO_BIG", 5: "BAD_INPUT", 6: "NOT_LOADED",
               16: "BAD_REQUEST", 17: "BAD_STATE", 18: "SHA_MISMATCH", 19: "TOO_LARGE", 20: "INCOMPLETE",
               32: "RUNTIME"}

HELLO_BRIEF = 0x01  # HELLO request flags
LOAD_PRESERVE_ALL = 0x01  # LOAD_END flags
INVOKE_PROFILE = 0x01  # INVOKE flags
NAK_ORDER, NAK_DAMAGED = 0, 1  # NAK reasons: a request it cannot run now; a damaged frame it dropped
HEAD = struct.Struct("<BII")  # type, session, seq
MIN_FRAME = HEAD.size + 4  # + crc32
SEQ_MAX = 0xFFFFFFFF
Frame = namedtuple("Frame", "type session seq body crc")  # crc: the frame's CRC, part of its identity


def name(msg_type: int) -> str:
    """'LOAD_CHUNK', 'LOAD_CHUNK reply', or '0x3c' for unknown types."""
    if msg_type not in (ERROR, NAK) and msg_type & REPLY and msg_type & 0x7F in NAMES:
        return NAMES[msg_type & 0x7F] + " reply"
    return NAMES.get(msg_type, f"0x{msg_type:02x}")


# ---- COBS ----
def cobs_encode(data: bytes) -> bytes:
    """COBS: no 0x00 in the result; one code byte per run of up to 254 non-zero bytes."""
    data = bytes(data)
    out = bytearray()
    pos, n = 0, len(data)
    while True:
        zero = data.find(b"\x00", pos, pos + 254)
        if zero < 0:
            end = min(n, pos + 254)
            if end - pos == 254:  # a full block: code 0xFF, no implied zero after it
                out.append(0xFF)
                out += data[pos:end]
                pos = end
                continue
            out.append(end - pos + 1)
            out += data[pos:end]
            return bytes(out)
        out.append(zero - pos + 1)
        out += data[pos:zero]
        pos = zero + 1


def cobs_decode(data: bytes) -> bytes | None:
    """The bytes COBS-encoded in `data` (no delimiter), or None when it is not valid COBS."""
    data = bytes(data)
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0 or i + code > n:
            return None
        out += data[i + 1:i + code]
        i += code
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


# ---- frames ----
def encode(msg_type: int, session: int, seq: int, body: bytes = b"") -> bytes:
    """One complete frame on the wire, delimiter included."""
    raw = HEAD.pack(msg_type & 0xFF, session & SEQ_MAX, seq & SEQ_MAX) + bytes(body)
    return cobs_encode(raw + struct.pack("<I", zlib.crc32(raw))) + b"\x00"


def decode(frame: bytes) -> Frame | None:
    """The Frame in `frame` (no delimiter), or None if it is damaged."""
    raw = cobs_decode(frame)
    if raw is None or len(raw) < MIN_FRAME:
        return None
    (crc,) = struct.unpack_from("<I", raw, len(raw) - 4)
    if zlib.crc32(raw[:-4]) != crc:
        return None
    return Frame(*HEAD.unpack_from(raw), raw[HEAD.size:-4], crc)


class Decoder:
    """Streaming: feed() any bytes, get the good frames back; damaged ones are counted and dropped."""

    def __init__(self, max_frame: int = 1 << 20) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._overflow = False
        self.dropped = 0

    def feed(self, data: bytes, damaged: bool = False) -> list[Frame | None]:
        """The good frames `data` completed, in order; with damaged=True a None stands where a
        damaged frame was dropped (the target NAKs it at once)."""
        frames = []
        for part in _split_keep(bytes(data)):
            if part is None:  # a delimiter
                if self._buf or self._overflow:
                    got = None if self._overflow else decode(bytes(self._buf))
                    if got is None:
                        self.dropped += 1
                    if got is not None or damaged:
                        frames.append(got)
                self._buf.clear()
                self._overflow = False
            elif not self._overflow:
                self._buf += part
                if len(self._buf) > self.max_frame + self.max_frame // 254 + 8:
                    self._overflow = True
                    self._buf.clear()
        return frames

    def reset(self) -> None:
        self._buf.clear()
        self._overflow = False

    def drop_partial(self) -> bool:
        """Give up the frame gathered so far (its delimiter was lost, nothing followed): counted as
        dropped; whether there was one."""
        had = bool(self._buf) or self._overflow
        if had:
            self.dropped += 1
            self.reset()
        return had


def _split_keep(data: bytes):
    """Pieces of `data` between zeros, with None where each zero was."""
    start = 0
    while True:
        z = data.find(b"\x00", start)
        if z < 0:
            if start < len(data):
                yield data[start:]
            return
        if z > start:
            yield data[start:z]
        yield None
        start = z + 1


# ---- bodies ----
def pack_hello_request(nonce: int = 0, brief: bool = False) -> bytes:
    """brief: the reply holds only version, nonce and boot_id (a new session of a known target)."""
    return struct.pack("<IB", nonce & 0xFFFFFFFF, HELLO_BRIEF if brief else 0)


def pack_hello(facts: dict) -> bytes:
    return json.dumps(facts, separators=(",", ":")).encode()


def unpack_hello(body: bytes) -> dict:
    """HELLO reply JSON → dict; ValueError when it is not a JSON object."""
    facts = json.loads(body.decode("utf-8"))
    if not isinstance(facts, dict):
        raise ValueError("HELLO reply is not a JSON object")
    return facts


def pack_load_begin(size: int, sha256: bytes) -> bytes:
    return struct.pack("<I", size) + bytes(sha256)


def unpack_load_begin(body: bytes) -> tuple[int, bytes]:
    (size,) = struct.unpack_from("<I", body)
    if len(body) != 36:
        raise ValueError(f"LOAD_BEGIN body is {len(body)} bytes, not 36")
    return size, body[4:36]


def pack_offset_data(offset: int, data: bytes) -> bytes:
    """LOAD_CHUNK body."""
    return struct.pack("<I", offset) + bytes(data)


def unpack_offset_data(body: bytes) -> tuple[int, bytes]:
    (offset,) = struct.unpack_from("<I", body)
    return offset, body[4:]


def pack_load_end(flags: int = 0, arena_limit: int = 0) -> bytes:
    return struct.pack("<BI", flags, arena_limit)


def pack_set_input(idx: int, offset: int, data: bytes) -> bytes:
    return struct.pack("<BI", idx, offset) + bytes(data)


def unpack_set_input(body: bytes) -> tuple[int, int, bytes]:
    idx, offset = struct.unpack_from("<BI", body)
    return idx, offset, body[5:]


def pack_invoke(count: int = 1, flags: int = 0) -> bytes:
    return struct.pack("<HB", count, flags)


def pack_invoke_reply(ticks: list[int], op_ticks: list[int] = ()) -> bytes:
    return struct.pack(f"<HH{len(ticks)}I{len(op_ticks)}I", len(ticks), len(op_ticks), *ticks, *op_ticks)


def unpack_invoke_reply(body: bytes) -> tuple[list[int], list[int]]:
    count, nops = struct.unpack_from("<HH", body)
    if len(body) != 4 + 4 * (count + nops):
        raise ValueError(f"INVOKE reply is {len(body)} bytes for {count} ticks and {nops} op ticks")
    vals = struct.unpack_from(f"<{count + nops}I", body, 4)
    return list(vals[:count]), list(vals[count:])


def pack_get_output(idx: int, offset: int, length: int) -> bytes:
    return struct.pack("<BII", idx, offset, length)


def pack_get_tensor(idx: int, offset: int, length: int) -> bytes:
    return struct.pack("<HII", idx, offset, length)


def pack_tensor_info(type_: int, dims: list[int], nbytes: int, scale: float, zero_point: int) -> bytes:
    return struct.pack(f"<BB{len(dims)}iIfi", type_, len(dims), *dims, nbytes, scale, zero_point)


def unpack_tensor_info(body: bytes, pos: int = 0) -> tuple[dict, int]:
    """One tensor info at `pos` → (dict(type, dims, bytes, scale, zero_point), next position)."""
    type_, ndims = struct.unpack_from("<BB", body, pos)
    pos += 2
    dims = list(struct.unpack_from(f"<{ndims}i", body, pos))
    pos += 4 * ndims
    nbytes, scale, zp = struct.unpack_from("<Ifi", body, pos)
    return {"type": type_, "dims": dims, "bytes": nbytes, "scale": scale, "zero_point": zp}, pos + 12


def unpack_load_end_reply(body: bytes) -> dict:
    nin, nout, nops, ntensors, used, arena = struct.unpack_from("<BBHHII", body)
    pos, infos = 14, []
    for _ in range(nin + nout):
        info, pos = unpack_tensor_info(body, pos)
        infos.append(info)
    return {"inputs": infos[:nin], "outputs": infos[nin:], "ops": nops, "tensors": ntensors,
            "arena_used": used, "arena_bytes": arena}


def unpack_tensor_info_reply(body: bytes) -> dict:
    info, pos = unpack_tensor_info(body)
    (producer,) = struct.unpack_from("<h", body, pos)
    n = body[pos + 2]
    info.update(producer=producer, op=body[pos + 3:pos + 3 + n].decode("utf-8", "replace"))
    return info


NAK_BODY = struct.Struct("<BII")  # reason, session and seq of the frame received (0, 0 if damaged)


def pack_nak(reason: int, got_session: int, got_seq: int, boot_id: str) -> bytes:
    return NAK_BODY.pack(reason, got_session & SEQ_MAX, got_seq & SEQ_MAX) + boot_id.encode("ascii")


def unpack_nak(body: bytes) -> tuple[int, int, int, str]:
    """(reason, session and seq of the frame the target received, its boot id); reason -1 if malformed."""
    if len(body) < NAK_BODY.size:
        return -1, 0, 0, ""
    return (*NAK_BODY.unpack_from(body), body[NAK_BODY.size:].decode("ascii", "replace"))


def pack_error(code: int, text: str) -> bytes:
    return bytes((code & 0xFF,)) + text.encode("utf-8", "replace")[:400]


def unpack_error(body: bytes) -> tuple[int, str]:
    if not body:
        return 0, "(empty ERROR frame)"
    return body[0], body[1:].decode("utf-8", "replace")
