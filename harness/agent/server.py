"""The agent's side of docs/protocol.md over a pair of file descriptors (stdin/stdout of the SSH exec).

Requests execute strictly in order (go-back-N): the expected seq runs and its reply is cached; a
recently executed seq gets its cached reply again without running twice; anything else is NAKed
(seq expected, seq received) for the host to re-send from the lost one. HELLO always runs and resynchronises. EOF on stdin ends the agent.
"""

from __future__ import annotations

import os
import struct
import sys

from . import wire
from .handler import AgentError, Handler

WINDOW = 64
MAX_BODY = 1 << 16


class Server:
    def __init__(self, handler: Handler, rfd: int = 0, wfd: int = 1) -> None:
        self.h, self.rfd, self.wfd = handler, rfd, wfd
        self.expected = None  # next seq to execute; None until the first request
        self.cache = {}  # seq → reply frame, the last WINDOW executed
        self.decoder = wire.Decoder(max_frame=MAX_BODY + 16)
        self.out = bytearray()

    def serve(self) -> int:
        self._send(wire.encode(wire.HELLO | wire.REPLY, 0, wire.pack_hello(self._announce())))
        self._flush()
        while True:
            data = os.read(self.rfd, 1 << 16)
            if not data:
                return 0
            for msg_type, seq, body in self.decoder.feed(data):
                self.on_frame(msg_type, seq, body)
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

    def on_frame(self, msg_type: int, seq: int, body: bytes) -> None:
        if msg_type == wire.HELLO:
            self.cache.clear()
            self.expected = seq
        elif self.expected is None:
            self.expected = seq
        if seq != self.expected:
            if seq in self.cache and (self.expected - seq) % 256 <= WINDOW:
                self._send(self.cache[seq])  # a retry: same reply, not run again
            else:  # a request after a lost one: NAK, so the host re-sends from the lost one at once
                self._send(wire.encode(wire.NAK, self.expected, wire.pack_nak(seq, self.h.boot_id)))
            return
        frame = self._execute(msg_type, seq, body)
        self.cache.pop((seq - WINDOW) % 256, None)
        self.cache[seq] = frame
        self.expected = (seq + 1) % 256
        self._send(frame)

    def _execute(self, msg_type: int, seq: int, body: bytes) -> bytes:
        try:
            reply = self._dispatch(msg_type, body)
        except AgentError as e:
            return wire.encode(wire.ERROR, seq, wire.pack_error(e.code, e.text))
        except (struct.error, ValueError, IndexError) as e:
            return wire.encode(wire.ERROR, seq, wire.pack_error(wire.E_BAD_REQUEST, f"{wire.name(msg_type)}: {e}"))
        return wire.encode(msg_type | wire.REPLY, seq, reply)

    def _dispatch(self, t: int, body: bytes) -> bytes:
        h = self.h
        if t == wire.HELLO:
            nonce = struct.unpack_from("<I", body)[0] if len(body) >= 4 else 0
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
