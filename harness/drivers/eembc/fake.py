"""A scripted MLPerf Tiny device for the eembc driver's error paths only (kind eembc-fake): it
speaks the protocol in-process, like a reference kws01 image, and breaks it on purpose.

faults (at the fault_at-th `infer`, 1-based, unless said otherwise):
  none             a well-behaved device
  silent           never says anything (from the first command)
  hang             stops answering
  reset            prints its boot banner instead of the reply and forgets the buffer
  reset-upload     the same at the fault_at-th `db <hex>` command
  drop-lap         no m-lap-us lines (as a device in energy mode)
  garble-lap       m-lap-us-12x4
  garble-results   a result value that is not a number
  drop-ready       the reply without its m-ready
  error            e-[…] instead of the reply
  count            one result value too few
  noise            a line of non-ASCII bytes
  stray            an unknown line inside the reply
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .. import register
from .driver import EembcDriver, EembcOptions

FAULTS = ("none", "silent", "hang", "reset", "reset-upload", "drop-lap", "garble-lap", "garble-results",
          "drop-ready", "error", "count", "noise", "stray")
BANNER = ["m-timestamp-mode-performance", "m-lap-us-0", "m-init-done", "m-ready"]


@dataclass(frozen=True)
class FakeEembcOptions(EembcOptions):
    url: str = "fake://eembc"
    fault: str = "none"
    fault_at: int = 1
    model: str = "kws01"
    classes: int = 12
    command_timeout: float = 1.0
    infer_timeout: float = 2.0
    boot_timeout: float = 2.0


class FakeDevice:
    """The device end: write() takes command bytes, read() returns what the device printed."""

    def __init__(self, opts: FakeEembcOptions) -> None:
        self.o = opts
        self.out = bytearray()
        self.cmd = bytearray()
        self.buf, self.size = bytearray(), 0
        self.infers = self.dbs = 0
        self.mute = opts.fault == "silent"

    def write(self, data: bytes) -> None:
        for b in data:
            if b == ord("%"):
                self._run(self.cmd.decode("ascii"))
                self.cmd.clear()
            else:
                self.cmd.append(b)

    def read(self, n: int) -> bytes:
        if not self.out:
            time.sleep(0.005)
            return b""
        data, self.out = bytes(self.out[:n]), self.out[n:]
        return data

    def close(self) -> None:
        pass

    def _say(self, lines: list[str]) -> None:
        if not self.mute:
            self.out += "".join(x + "\r\n" for x in lines).encode("latin-1")

    def _reset(self) -> None:
        self.buf, self.size = bytearray(), 0
        self._say(BANNER)

    def _run(self, cmd: str) -> None:
        tok = cmd.split()
        if not tok:
            return self._say(["m-ready"])
        if tok[0] == "name":
            return self._say(["m-name-dut-[fake]", "m-ready"])
        if tok[0] == "profile":
            return self._say(["m-profile-[fake]", f"m-model-[{self.o.model}]", "m-ready"])
        if tok[0] == "db" and tok[1:2] == ["load"]:
            self.buf, self.size = bytearray(), int(tok[2])
            return self._say([f"m-[Expecting {self.size} bytes]", "m-ready"])
        if tok[0] == "db":
            self.dbs += 1
            if self.o.fault == "reset-upload" and self.dbs == self.o.fault_at:
                return self._reset()
            self.buf += bytes.fromhex(tok[1])
            return self._say((["m-load-done"] if len(self.buf) == self.size else []) + ["m-ready"])
        if tok[0] == "infer":
            self.infers += 1
            return self._infer(int(tok[1]), int(tok[2]))
        self._say([f"e-[Unknown command: {tok[0]}]", "m-ready"])

    def values(self) -> list[str]:
        """Outputs of a softmax with scale 1/256, zero point -128, printed as the kws01 reference."""
        seed = sum(self.buf)
        return [f"{((seed + 37 * i) % 256) / 256:.6f}"[:5] for i in range(self.o.classes)]

    def _infer(self, n: int, w: int) -> None:
        t0 = 1000 * self.infers
        lines = [f"m-warmup-start-{w}", "m-warmup-done", f"m-infer-start-{n}", f"m-lap-us-{t0}",
                 f"m-lap-us-{t0 + 1234 * n}", "m-infer-done", f"m-results-[{','.join(self.values())}]", "m-ready"]
        fault = self.o.fault if self.infers == self.o.fault_at else "none"
        if fault == "hang":
            self.mute = True
        elif fault == "reset":
            return self._reset()
        elif fault == "drop-lap":
            lines = [x for x in lines if not x.startswith("m-lap-us")]
        elif fault == "garble-lap":
            lines[4] = "m-lap-us-12x4"
        elif fault == "garble-results":
            lines[6] = "m-results-[0.125,zz]"
        elif fault == "drop-ready":
            lines.pop()
        elif fault == "error":
            lines = ["e-[infer failed: fake]", "m-ready"]
        elif fault == "count":
            lines[6] = lines[6].rsplit(",", 1)[0] + "]"
        elif fault == "noise":
            lines.insert(3, "\xff\xfe")
        elif fault == "stray":
            lines.insert(3, "debug: hello")
        self._say(lines)


@register("eembc-fake")
class FakeEembcDriver(EembcDriver):
    """The eembc driver over FakeDevice; error paths only, never the main path."""

    options_class = FakeEembcOptions

    def _connect(self):
        if self.opts.fault not in FAULTS:
            from ...errors import ConfigError

            raise ConfigError(f"fault: {self.opts.fault!r} is not one of {', '.join(FAULTS)}")
        return FakeDevice(self.opts)
