"""The agent's side of docs/protocol.md over a pair of file descriptors (stdin/stdout of the SSH exec).

Requests execute strictly in order (go-back-N) within the session the last HELLO opened: the
expected seq runs and its reply is cached under the request's full identity (session, seq, CRC);
a recently executed request gets its cached reply again without running twice; anything else
(another session, a request after a lost one, a stale copy) is NAKed, and so is a damaged frame,
for the host to re-send at once. EOF on stdin ends the agent.
"""

from __future__ import annotations

import os
import struct
import sys

from ..protocol import wire
from .handler import AgentError, Handler

WINDOW = 64
MAX_BODY = 1 << 16


class Server:
    def __init__(self, handler: Handler, rfd: int = 0, wfd: int = 1) -> None:
        self.h, self.rfd, self.wfd = handler, rfd, wfd
        self.session = 0  # opened by HELLO; 0: none yet, nothing but HELLO runs
        self.expected = 0  # the seq that runs next
        self.cache: dict[int, tuple[int, int, bytes]] = {}  # seq → (session, request CRC, reply frame)
        self.decoder = wire.Decoder(max_frame=MAX_BODY + 16)
        self.out = bytearray()

    def serve(self) -> int:
        self._send(wire.encode(wire.HELLO | wire.REPLY, 0, 0, wire.pack_hello(self._announce())))
        self._flush()
        while True:
            data = os.read(self.rfd, 1 << 16)
            if not data:
                return 0
            for frame in self.decoder.feed(data, damaged=True):
                self.on_frame(frame)
            self._flush()  # replies to everything read in one write: pipelined requests stay cheap

    def _announce(self) -> dict:
        return self._hello({"boot": 1})

    def _hello(self, extra: dict) -> dict:
        """HELLO facts; a missing runtime is a fact too (`error`, with the pip command), not a failure."""
        extra.update(max_body=MAX_BODY, window=WINDOW)
        try:
            return self.h.hello(extra)
        except AgentError as e:
            return dict(extra, boot_id=self.h.boot_id, error=e.text, version=wire.VERSION, timer="ns")

    def on_frame(self, f: wire.Frame | None) -> None:
        """One frame in (None: a damaged one), its reply, cached reply or NAK out."""
        if f is None:
            return self._nak(wire.NAK_DAMAGED, 0, 0)
        if f.type & wire.REPLY:
            return  # our own kind of frame echoed back: not a request
        if f.type == wire.HELLO:  # always answered; opens a session unless it repeats this one's HELLO
            if f.session != self.session or not f.session:
                self.session, self.expected, self.cache = f.session, (f.seq + 1) & wire.SEQ_MAX, {}
            return self._send(self._execute(f))
        if self.session and f.session == self.session:
            if f.seq == self.expected:
                frame = self._execute(f)
                self.cache.pop((f.seq - WINDOW) & wire.SEQ_MAX, None)
                self.cache[f.seq] = (f.session, f.crc, frame)
                self.expected = (f.seq + 1) & wire.SEQ_MAX
                return self._send(frame)
            cached = self.cache.get(f.seq)
            if cached and cached[:2] == (f.session, f.crc) and 0 < (self.expected - f.seq) & wire.SEQ_MAX <= WINDOW:
                return self._send(cached[2])  # a retry: the same reply, not run again
        self._nak(wire.NAK_ORDER, f.session, f.seq)  # the host re-sends from the one expected

    def _nak(self, reason: int, session: int, seq: int) -> None:
        body = wire.pack_nak(reason, session, seq, self.h.boot_id)
        self._send(wire.encode(wire.NAK, self.session, self.expected, body))

    def _execute(self, f: wire.Frame) -> bytes:
        try:
            reply = self._dispatch(f.type, f.body)
        except AgentError as e:
            return wire.encode(wire.ERROR, f.session, f.seq, wire.pack_error(e.code, e.text))
        except (struct.error, ValueError, IndexError) as e:
            return wire.encode(wire.ERROR, f.session, f.seq,
                               wire.pack_error(wire.E_BAD_REQUEST, f"{wire.name(f.type)}: {e}"))
        return wire.encode(f.type | wire.REPLY, f.session, f.seq, reply)

    def _dispatch(self, t: int, body: bytes) -> bytes:
        h = self.h
        if t == wire.HELLO:
            nonce = struct.unpack_from("<I", body)[0] if len(body) >= 4 else 0
            if len(body) >= 5 and body[4] & wire.HELLO_BRIEF:
                return wire.pack_hello({"version": wire.VERSION, "nonce": nonce, "boot_id": h.boot_id})
            return wire.pack_hello(self._hello({"boot": 0, "nonce": nonce}))
        if t == wire.LOAD_BEGIN:
            return h.load_begin(*wire.unpack_load_begin(body))
        if t == wire.LOAD_CHUNK:
            return h.load_chunk(*wire.unpack_offset_data(body))
        if t == wire.LOAD_END:
            return h.load_end(struct.unpack_from("<BI", body)[0])
        if t == wire.SET_INPUT:
            h.set_input(*wire.unpack_set_input(body))
            return b""
        if t == wire.INVOKE:
            count, flags = struct.unpack_from("<HB", body)
            return wire.pack_invoke_reply(h.invoke(count))
        if t == wire.GET_OUTPUT:
            idx, offset, length = struct.unpack_from("<BII", body)
            return h.output(idx, offset, min(length, MAX_BODY))
        if t == wire.GET_TENSOR:
            idx, offset, length = struct.unpack_from("<HII", body)
            return h.tensor(idx, offset, min(length, MAX_BODY))
        if t == wire.TENSOR_INFO:
            return h.tensor_info(struct.unpack_from("<H", body)[0])
        if t == wire.RESET:
            self.h = Handler(h.runtime, h.kernels, h.threads, h.model_dir)
            return b""
        raise AgentError(wire.E_BAD_REQUEST, f"{wire.name(t)} is not served by the Linux agent")

    def _send(self, frame: bytes) -> None:
        self.out += frame

    def _flush(self) -> None:
        data, self.out = bytes(self.out), bytearray()
        while data:
            data = data[os.write(self.wfd, data):]


def main(argv: list) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python3 -m agent", description="harness board agent (stdio)")
    p.add_argument("--runtime", default="tflite-runtime")
    p.add_argument("--kernels", default="optimized")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--models", default="", help="the sha256-keyed model cache (SFTP uploads)")
    a = p.parse_args(argv)
    out = os.dup(1)
    os.dup2(2, 1)  # a stray print() from a library must not corrupt the frames
    sys.stdout = sys.stderr
    try:
        return Server(Handler(a.runtime, a.kernels, a.threads, a.models), 0, out).serve()
    except (BrokenPipeError, ConnectionResetError):
        return 0
