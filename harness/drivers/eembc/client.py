"""The MLPerf Tiny (EEMBC) benchmark's serial protocol, host side, over any stream with
read(n)/write (protocol.streams.SerialStream on a pyserial URL, or a fake device).

Facts (mlcommons/tiny benchmark/api, benchmark/runner; docs/eembc.md): a command is text of at
most 80 characters ended by `%`; the device answers lines ending in CR LF and closes every
command with `m-ready`; an error is an `e-[…]` line. A device that boots prints
`m-timestamp-mode-performance` (or `-energy`), often `m-lap-us-N`, `m-init-done`, `m-ready`;
seen in the middle of a command, that banner means the device reset. Replies are parsed
strictly: a malformed or missing line is a one-line error that quotes it.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from ...deadline import Deadline
from ...errors import TargetError, TargetTimeout

CMD_MAX = 80  # characters of a command before its '%' (the reference's command buffer)
READY = "m-ready"
BOOT_PREFIXES = ("m-timestamp-mode-", "m-init-done")
_NAME = re.compile(r"m-name-dut-\[([^\]]*)\]")
_PROFILE = re.compile(r"m-(profile|model)-\[([^\]]*)\]")
_LAP = re.compile(r"m-lap-us-(\d+)")
_RESULTS = re.compile(r"m-results-\[(.*)\]")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class DeviceError(TargetError):
    """The device answered a command with an `e-[…]` line."""


class MalformedReply(TargetError):
    """A reply line is missing, out of place or not what the protocol allows."""


class DeviceReset(TargetError):
    """The device printed its boot banner in the middle of a command: it reset."""

    def __init__(self, msg: str, line: str) -> None:
        super().__init__(msg)
        self.line = line


def _q(line: str) -> str:
    """A line quoted for a one-line message, shortened."""
    return repr(line if len(line) <= 90 else line[:87] + "...")


class EembcClient:
    """Commands and their reply lines; `where` names the target and URL in every message."""

    def __init__(self, stream, where: str) -> None:
        self.stream, self.where = stream, where
        self._buf = bytearray()
        self.recent: deque[str] = deque(maxlen=20)  # last lines seen, for messages and tests
        self.commands = 0  # commands sent, over the client's life

    @property
    def last_line(self) -> str:
        return self.recent[-1] if self.recent else ""

    def _seen(self) -> str:
        if self._buf:
            return f"{len(self._buf)} bytes without a line end: {bytes(self._buf[:40])!r} (not this protocol?)"
        return f"last line seen: {_q(self.last_line)}" if self.recent else "nothing received"

    def read_line(self, deadline: Deadline) -> str | None:
        """The next non-empty line (CR, NUL stripped), or None when the deadline passes."""
        while True:
            cut = self._buf.find(b"\n")
            if cut >= 0:
                raw, self._buf = bytes(self._buf[:cut]), self._buf[cut + 1:]
                line = self._decode(raw.replace(b"\r", b"").replace(b"\x00", b""))
                if line:
                    self.recent.append(line)
                    return line
                continue
            if deadline.expired():
                return None
            self._buf += self.stream.read(4096)

    def _decode(self, raw: bytes) -> str:
        try:
            line = raw.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedReply(f"{self.where}: a reply line is not ASCII text: {raw[:60]!r} (wrong baud rate? "
                                 f"performance mode runs at 115200, energy mode at 9600)") from None
        if not line.isprintable():
            raise MalformedReply(f"{self.where}: a reply line holds control characters: {_q(line)}")
        return line.strip()

    def command(self, text: str, timeout: float) -> list[str]:
        """Send `text%`; the reply's lines up to `m-ready` (excluded). Raises DeviceError on an
        `e-[…]` line, DeviceReset on a boot banner, TargetTimeout naming the last line seen."""
        if len(text) > CMD_MAX or "%" in text or not text.isprintable():
            raise TargetError(f"{self.where}: command {_q(text)} is not {CMD_MAX} printable characters without '%'")
        self.stream.write(text.encode("ascii") + b"%")
        self.commands += 1
        lines: list[str] = []
        deadline = Deadline(timeout)
        while True:
            line = self.read_line(deadline)
            if line is None:
                hint = "" if self.recent else (" (check the URL, the baud rate — 115200 in performance mode — and "
                                               "that the device runs an MLPerf Tiny benchmark image)")
                raise TargetTimeout(f"{self.where}: no {READY} after `{text}` within {timeout:.3g} s; "
                                    f"{self._seen()}{hint}")
            if line.startswith(BOOT_PREFIXES):
                raise DeviceReset(f"{self.where}: the device reset during `{text}` (it printed {_q(line)})", line)
            if line == READY:
                break
            lines.append(line)
        errors = [x for x in lines if x.startswith("e-")]
        if errors:
            raise DeviceError(f"{self.where}: `{text}` failed on the device: {errors[0]}")
        return lines

    def boot_banner(self, timeout: float, first: str = "") -> list[str]:
        """The rest of a boot banner (after `first`, if already read), up to its `m-ready`."""
        lines = [first] if first else []
        deadline = Deadline(timeout)
        while True:
            line = self.read_line(deadline)
            if line is None:
                raise TargetTimeout(f"{self.where}: no boot banner ending in {READY} within {timeout:.3g} s; "
                                    f"{self._seen()}")
            if line == READY and any(x.startswith("m-init-done") for x in lines):
                return lines
            lines.append(line)

    def drain(self, quiet: float) -> list[str]:
        """Lines that arrive until the device has been quiet for `quiet` seconds."""
        lines = []
        while (line := self.read_line(Deadline(quiet))) is not None:
            lines.append(line)
        return lines

    def resync(self, timeout: float) -> str:
        """After a reset or noise: drain, then `name` until a clean reply; the device name."""
        self.drain(0.2)
        self.stream.write(b"name%")
        deadline = Deadline(timeout)
        name = None
        while True:
            line = self.read_line(deadline)
            if line is None:
                raise TargetTimeout(f"{self.where}: no reply to `name` within {timeout:.3g} s after a reset; "
                                    f"{self._seen()}")
            m = _NAME.fullmatch(line)
            if m:
                name = m.group(1)
            elif line == READY and name is not None:
                return name


def need_one(lines: list[str], pattern: re.Pattern, what: str, where: str, cmd: str) -> re.Match:
    """The single line of `lines` matching `pattern`, or MalformedReply quoting the reply."""
    hits = [m for x in lines if (m := pattern.fullmatch(x))]
    if len(hits) != 1:
        got = "; ".join(_q(x) for x in lines) or "no lines"
        raise MalformedReply(f"{where}: expected one {what} line in the reply to `{cmd}`, got {len(hits)} ({got})")
    return hits[0]


def parse_name(lines: list[str], where: str) -> str:
    return need_one(lines, _NAME, "m-name-dut-[…]", where, "name").group(1)


def parse_profile(lines: list[str], where: str) -> tuple[str, str]:
    """(profile text, model id) from `m-profile-[…]` and `m-model-[…]`."""
    found = {m.group(1): m.group(2) for x in lines if (m := _PROFILE.fullmatch(x))}
    if "model" not in found:
        got = "; ".join(_q(x) for x in lines) or "no lines"
        raise MalformedReply(f"{where}: no m-model-[…] line in the reply to `profile` ({got})")
    return found.get("profile", ""), found["model"]


@dataclass(frozen=True)
class InferReply:
    """One `infer N W`: the two microsecond stamps and the printed result values."""

    t0_us: int
    t1_us: int
    values: tuple[str, ...]

    @property
    def elapsed_us(self) -> int:
        return (self.t1_us - self.t0_us) % (1 << 32)  # %lu of a 32-bit counter wraps


def parse_infer(lines: list[str], n: int, w: int, where: str, strict: bool = True) -> InferReply:
    """Check the reply to `infer n w` line by line: the order the reference prints them in."""
    cmd = f"infer {n} {w}"
    expect = [f"m-warmup-start-{w}", "m-warmup-done", f"m-infer-start-{n}", _LAP, _LAP, "m-infer-done", _RESULTS]
    hits: list[re.Match | str] = []
    for line in lines:
        want = expect[len(hits)] if len(hits) < len(expect) else None
        m = want.fullmatch(line) if isinstance(want, re.Pattern) else (line if line == want else None)
        if m is not None:
            hits.append(m)
        elif strict or line.startswith(("m-lap", "m-results", "m-infer", "m-warmup")):
            raise MalformedReply(f"{where}: unexpected line {_q(line)} in the reply to `{cmd}` (expected "
                                 f"{_expected(want)}){_energy_hint(want, line)}")
    if len(hits) < len(expect):
        raise MalformedReply(f"{where}: the reply to `{cmd}` ends before {_expected(expect[len(hits)])} "
                             f"(last line {_q(lines[-1]) if lines else 'none'}){_energy_hint(expect[len(hits)], '')}")
    return InferReply(int(hits[3].group(1)), int(hits[4].group(1)), split_values(hits[6].group(1), where))


def _expected(want) -> str:
    names = {_LAP: "m-lap-us-<µs>", _RESULTS: "m-results-[…]"}
    return names.get(want, repr(want)) if want is not None else "m-ready"


def _energy_hint(want, line: str) -> str:
    if want is not _LAP or line not in ("", "m-infer-done"):
        return ""
    return "; a device in energy mode prints no m-lap-us lines (its timestamps are GPIO pulses)"


def split_values(body: str, where: str) -> tuple[str, ...]:
    """The values of `m-results-[…]`: comma separated numbers, a trailing comma allowed (the
    vww01 reference prints one)."""
    parts = [p.strip() for p in body.split(",")]
    if parts and parts[-1] == "":
        parts.pop()
    bad = [p for p in parts if not _NUMBER.fullmatch(p)]
    if bad or not parts:
        raise MalformedReply(f"{where}: m-results-[{body[:60]}] holds {_q(bad[0]) if bad else 'no values'}, "
                             "not a number")
    return tuple(parts)

