"""A fake MCU for error-path tests only: the real mcu driver over an in-process fake target.

modes: `silent` (never answers: HELLO timeout), `garbage` (noise, never a valid frame),
`error` (answers HELLO, then ERROR error_code/error_text to every request).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from ..core.schema import opt
from ..protocol import wire
from . import register
from .mcu import McuDriver, McuOptions


@dataclass(frozen=True)
class FakeOptions(McuOptions):
    mode: str = opt("silent", choices=("silent", "garbage", "error"))
    error_code: int = opt(wire.E_UNSUPPORTED, min=0, max=255)
    error_text: str = "op FOO (node 3) is not supported"
    hello_timeout: float = opt(1.0, above=0, max=3600)


class FakeStream:
    """Answers frames written to it according to the mode; read() returns what it 'sent'."""

    def __init__(self, opts: FakeOptions) -> None:
        self.opts = opts
        self.decoder = wire.Decoder()
        self.out = bytearray()
        self.rng = random.Random(1)

    def write(self, data: bytes) -> None:
        for f in self.decoder.feed(data):
            if self.opts.mode == "error":
                self.out += self._answer(f)

    def _answer(self, f: wire.Frame) -> bytes:
        if f.type == wire.HELLO:
            nonce = int.from_bytes(f.body[:4], "little") if len(f.body) >= 4 else 0
            facts = {"version": wire.VERSION, "board": "fake", "cpu": "none", "timer": "ns", "clock_hz": 0,
                     "max_body": 512, "window": 4, "arena_bytes": 1 << 20, "max_model_bytes": 1 << 20,
                     "boot": 0, "nonce": nonce, "boot_id": "00000000fa4efa4e", "ops": []}
            return wire.encode(f.type | wire.REPLY, f.session, f.seq, wire.pack_hello(facts))
        return wire.encode(wire.ERROR, f.session, f.seq, wire.pack_error(self.opts.error_code, self.opts.error_text))

    def read(self, n: int) -> bytes:
        if self.opts.mode == "garbage":
            self.out += bytes(self.rng.randrange(1, 256) for _ in range(64)) + b"\x00"
        if not self.out:
            time.sleep(0.01)
            return b""
        data, self.out = bytes(self.out[:n]), self.out[n:]
        return data

    def close(self) -> None:
        pass


@register("fake")
class FakeDriver(McuDriver):
    """Error paths of the mcu driver without hardware; never for the main path."""

    options_class = FakeOptions

    def url(self) -> str:
        return f"fake://{self.opts.mode}"

    def _connect(self):
        return FakeStream(self.opts)
