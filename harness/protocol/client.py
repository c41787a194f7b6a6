"""The protocol's commands on top of a Link: upload, plan, inputs, invoke, outputs, tensors.

Builders return Req lists so a driver can pipeline several inferences in one window.
"""

from __future__ import annotations

import hashlib
import struct
import time

from . import wire
from .link import Link
from .requests import Req

DTYPES = {9: "int8", 3: "uint8", 7: "int16", 2: "int32", 0: "float32", 4: "int64", 6: "bool", 1: "float16"}
PLAN_EXTRA_S = 30.0  # LOAD_END hashes and plans the model: seconds allowed beyond a frame timeout


def upload(link: Link, data: bytes, chunk: int, sent=None) -> float:
    """LOAD_BEGIN + windowed LOAD_CHUNKs of at most `chunk` bytes (split smaller while the link is
    noisy); the seconds it took. `sent(bytes)`, if given, hears how far the upload is as chunks go out."""
    t0 = time.perf_counter()
    step = max(1, min(chunk, link.max_body - 4))

    def reqs():  # taken by the window as it has room: `sent` follows the link, not the list
        yield Req(wire.LOAD_BEGIN, wire.pack_load_begin(len(data), hashlib.sha256(data).digest()))
        for o in range(0, len(data), step):
            if sent is not None:
                sent(o)
            yield Req(wire.LOAD_CHUNK, wire.pack_offset_data(o, data[o:o + step]), data_at=4)
        if sent is not None:
            sent(len(data))
    link.transact(reqs())
    return time.perf_counter() - t0


def load_end(link: Link, preserve_all: bool = False, arena_limit: int = 0) -> dict:
    """Check, parse and plan the uploaded model; inputs/outputs as tensor-info dicts."""
    flags = wire.LOAD_PRESERVE_ALL if preserve_all else 0
    return wire.unpack_load_end_reply(link.request(wire.LOAD_END, wire.pack_load_end(flags, arena_limit), PLAN_EXTRA_S))


def set_input_reqs(link: Link, idx: int, data: bytes) -> list[Req]:
    step = link.max_body - 5
    return [Req(wire.SET_INPUT, wire.pack_set_input(idx, o, data[o:o + step]), data_at=5)
            for o in range(0, max(1, len(data)), step)]


def invoke_req(count: int = 1, profile: bool = False, extra: float = 0.0) -> Req:
    return Req(wire.INVOKE, wire.pack_invoke(count, wire.INVOKE_PROFILE if profile else 0), extra)


def get_output_reqs(link: Link, idx: int, nbytes: int) -> list[Req]:
    step = link.max_body
    return [Req(wire.GET_OUTPUT, wire.pack_get_output(idx, o, min(step, nbytes - o)), reads=True)
            for o in range(0, max(1, nbytes), step)]


def get_tensor(link: Link, idx: int, nbytes: int) -> bytes:
    step = link.max_body
    reqs = [Req(wire.GET_TENSOR, wire.pack_get_tensor(idx, o, min(step, nbytes - o)), reads=True)
            for o in range(0, max(1, nbytes), step)]
    return b"".join(link.transact(reqs))


def tensor_info(link: Link, idx: int) -> dict:
    return wire.unpack_tensor_info_reply(link.request(wire.TENSOR_INFO, struct.pack("<H", idx)))


def reset(link: Link) -> None:
    link.request(wire.RESET)


def raw_sink(link: Link, count: int) -> float:
    """Seconds for `count` raw bytes host → target (SINK), reply included."""
    seq = link._next_seq()
    t0 = time.perf_counter()
    link.stream.write(wire.encode(wire.SINK, link.session, seq, struct.pack("<I", count)) + b"\x55" * count)
    _wait_reply(link, wire.SINK, seq, 60.0)
    return time.perf_counter() - t0


def raw_source(link: Link, count: int) -> float:
    """Seconds for `count` raw bytes target → host (SOURCE), reply included."""
    seq = link._next_seq()
    damaged = link.noise.damaged
    t0 = time.perf_counter()
    link.stream.write(wire.encode(wire.SOURCE, link.session, seq, struct.pack("<I", count)))
    _wait_reply(link, wire.SOURCE, seq, 60.0)
    link.noise.damaged = damaged  # the raw run ends as a "damaged" frame: not noise
    return time.perf_counter() - t0


def _wait_reply(link: Link, msg_type: int, seq: int, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for f in link._frames():
            if (f.session, f.seq) == (link.session, seq) and f.type == wire.ERROR:
                raise link.error(f.body, Req(msg_type))
            if (f.session, f.seq) == (link.session, seq) and f.type == msg_type | wire.REPLY:
                return
    raise TimeoutError(f"{link.where}: no reply to {wire.name(msg_type)} (raw rate test)")
