"""Host side of the wire protocol (docs/protocol.md) over any byte stream.

A stream is anything with `read(n) -> bytes` (1..n bytes, or b"" after a short wait) and
`write(data)`: SerialStream wraps a pyserial object (/dev/ttyACM0, socket://, rfc2217://,
loop://); the SSH agent client passes its channel. Requests go out in a window (go-back-N):
the target runs them in order, answers a repeated seq from its cache, and NAKs a request
that arrives after a lost one, so a loss costs one re-send instead of a timeout.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from .agent import wire
from .deadline import Deadline
from .errors import LinkError, ModelError, TargetError, TargetTimeout, UnsupportedModel
from .link_stream import SerialStream  # noqa: F401  (drivers import it from here)


SLOW_LINK_BYTES_S = 4000.0  # the slowest byte rate a timeout allows for before re-sending


class TargetRebooted(LinkError):
    """The target announced a new boot (or NAKed with a new boot id) mid-conversation."""

    def __init__(self, msg: str, boot_id: str = "") -> None:
        super().__init__(msg)
        self.boot_id = boot_id
        self.replies: list[bytes] = []  # replies of the requests completed before the reboot


class NotLoaded(TargetError):
    """ERROR NOT_LOADED: after a model was loaded this means the target lost it (a reboot)."""


_ERRORS = {wire.E_CORRUPT: ModelError, wire.E_UNSUPPORTED: UnsupportedModel, wire.E_ARENA: UnsupportedModel,
           wire.E_TOO_BIG: UnsupportedModel, wire.E_TOO_LARGE: UnsupportedModel, wire.E_NOT_LOADED: NotLoaded,
           wire.E_SHA_MISMATCH: LinkError, wire.E_INCOMPLETE: LinkError}


@dataclass
class Req:
    """One request: type, body, and seconds it may legitimately take beyond a frame timeout."""

    type: int
    body: bytes = b""
    extra: float = 0.0


class Link:
    """Request/response with sequence numbers, a window, NAK-driven and timed re-sends."""

    def __init__(self, stream, where: str, frame_timeout: float = 0.5, retries: int = 10, window: int = 8) -> None:
        self.stream, self.where = stream, where
        self.frame_timeout, self.max_retries, self.window_opt = frame_timeout, retries, window
        self.window = 1
        self.max_body = 256
        self.decoder = wire.Decoder()
        self.seq = random.randrange(256)
        self.retries = 0  # frames re-sent, over the link's life
        self.boot_id = ""
        self.facts: dict = {}
        self.slowest: dict[int, float] = {}  # request type → longest wait for its reply (s)
        self._order = 0

    # ---- frames ----
    def _send(self, msg_type: int, seq: int, body: bytes) -> None:
        self.stream.write(wire.encode(msg_type, seq, body))

    def _frames(self) -> list[tuple[int, int, bytes]]:
        return self.decoder.feed(self.stream.read(1 << 16))

    def _next_seq(self) -> int:
        self.seq = (self.seq + 1) & 0xFF
        return self.seq

    def _check_boot(self, msg_type: int, body: bytes) -> None:
        """Raise TargetRebooted on an unsolicited boot HELLO."""
        if msg_type == wire.HELLO | wire.REPLY:
            try:
                facts = wire.unpack_hello(body)
            except ValueError:
                return
            if facts.get("boot") and self.boot_id:
                raise TargetRebooted(f"{self.where}: the target rebooted (boot id {facts.get('boot_id')})",
                                     str(facts.get("boot_id", "")))

    def error(self, body: bytes, req: Req) -> TargetError:
        code, text = wire.unpack_error(body)
        cls = _ERRORS.get(code, TargetError)
        err = cls(f"{self.where}: {wire.name(req.type)}: {text} [{wire.ERROR_NAMES.get(code, code)}]")
        err.code = code
        return err

    # ---- HELLO ----
    def hello(self, timeout: float) -> dict:
        """Resynchronise with HELLO; the target's facts. TargetTimeout names the URL."""
        deadline = Deadline(timeout)
        nonce = random.randrange(1, 1 << 32)
        while True:
            seq = self._next_seq()
            self._send(wire.HELLO, seq, wire.pack_hello_request(nonce))
            resend = time.monotonic() + max(0.5, self.frame_timeout)
            while time.monotonic() < resend and not deadline.expired():
                for t, s, body in self._frames():
                    if t != wire.HELLO | wire.REPLY or s != seq:
                        continue
                    try:
                        facts = wire.unpack_hello(body)
                    except ValueError:
                        continue
                    if facts.get("nonce", nonce) == nonce and not facts.get("boot"):
                        return self._adopt(facts)
            if deadline.expired():
                raise TargetTimeout(
                    f"{self.where}: no HELLO within {timeout:g} s; check that the board is powered and runs the "
                    f"harness firmware, and the port/URL and baud rate")

    def _adopt(self, facts: dict) -> dict:
        self.facts = facts
        self.boot_id = str(facts.get("boot_id", ""))
        self.window = max(1, min(self.window_opt, int(facts.get("window", 1)), 64))
        self.max_body = int(facts.get("max_body", 256))
        return facts

    # ---- the window ----
    def transact(self, reqs: list[Req]) -> list[bytes]:
        """Send every request (a window in flight), return the reply bodies in order.

        An ERROR reply raises (mapped by code); on TargetRebooted, `.replies` holds the replies
        of the requests completed before it.
        """
        st = _Window(self, reqs)
        try:
            return st.run()
        except TargetRebooted as e:
            e.replies = [b for _, b in st.replies[:st.base]]
            raise

    def request(self, msg_type: int, body: bytes = b"", extra: float = 0.0) -> bytes:
        return self.transact([Req(msg_type, body, extra)])[0]


class _Window:
    """The state of one transact(): which requests are out, answered, re-sent."""

    def __init__(self, link: Link, reqs: list[Req]) -> None:
        self.link, self.reqs = link, reqs
        n = len(reqs)
        self.replies: list = [None] * n
        self.seqs = [0] * n
        self.order = [0] * n  # global send counter of each request's latest transmission
        self.sent_at = [0.0] * n
        self.index: dict[int, int] = {}
        self.nak_acted: dict[int, int] = {}  # index → order of the copy a NAK already re-sent
        self.base = self.next = 0
        self.progress = time.monotonic()
        self.fails = 0

    def _send(self, i: int) -> None:
        lk = self.link
        lk._order += 1
        self.order[i] = lk._order
        self.sent_at[i] = time.monotonic()
        lk._send(self.reqs[i].type, self.seqs[i], self.reqs[i].body)

    def _resend_from(self, i: int) -> None:
        for k in range(i, self.next):
            if self.replies[k] is None:
                self.link.retries += 1
                self._send(k)

    def run(self) -> list[bytes]:
        lk, n = self.link, len(self.reqs)
        while self.base < n:
            while self.next < n and self.next - self.base < lk.window:
                i = self.next
                self.seqs[i] = lk._next_seq()
                self.index[self.seqs[i]] = i
                self._send(i)
                self.next += 1
            for t, s, body in lk._frames():
                self._on_frame(t, s, body)
            self._advance()
            self._check_timeout()
        return [b for _, b in self.replies]

    def _on_frame(self, t: int, s: int, body: bytes) -> None:
        lk = self.link
        if t == wire.NAK:
            got, boot_id = wire.unpack_nak(body)
            if lk.boot_id and boot_id and boot_id != lk.boot_id:
                raise TargetRebooted(f"{lk.where}: the target rebooted (boot id {boot_id})", boot_id)
            i, j = self.index.get(s), self.index.get(got)
            if (i is not None and j is not None and self.replies[i] is None and self.order[j] > self.order[i]
                    and self.nak_acted.get(i) != self.order[i]):
                self._resend_from(i)  # i's latest copy was lost: j overtook it
                self.nak_acted[i] = self.order[i]  # the NAKs of the other old copies say the same
            return
        lk._check_boot(t, body)
        i = self.index.get(s)
        if i is None or self.replies[i] is not None or t not in (wire.ERROR, self.reqs[i].type | wire.REPLY):
            return  # a late duplicate or a stale reply
        now = time.monotonic()
        self.replies[i] = (t, body)
        if i == self.base:
            waited = now - max(self.progress, self.sent_at[i])
            lk.slowest[self.reqs[i].type] = max(lk.slowest.get(self.reqs[i].type, 0.0), waited)
        self.progress, self.fails = now, 0
        for k in range(self.base, i):  # replies lost before this one: the target has them cached
            if self.replies[k] is None and self.order[k] < self.order[i]:
                lk.retries += 1
                self._send(k)

    def _advance(self) -> None:
        while self.base < self.next and self.replies[self.base] is not None:
            t, body = self.replies[self.base]
            if t == wire.ERROR:
                raise self.link.error(body, self.reqs[self.base])
            del self.index[self.seqs[self.base]]
            self.base += 1

    def _check_timeout(self) -> None:
        lk = self.link
        if self.base >= self.next:
            return
        req = self.reqs[self.base]
        waited = time.monotonic() - max(self.progress, self.sent_at[self.base])
        # A frame's own bytes take time on a slow link (QEMU's UART: ~20 KB/s, less when busy).
        if waited < lk.frame_timeout + req.extra + len(req.body) / SLOW_LINK_BYTES_S:
            return
        self.fails += 1
        if self.fails > lk.max_retries:
            raise TargetTimeout(f"{lk.where}: no reply to {wire.name(req.type)} after "
                                f"{lk.max_retries} re-sends ({lk.frame_timeout:g} s apart); is the target running?")
        if self.fails == 1:  # most often one lost reply or request: re-send just that one
            lk.retries += 1
            self._send(self.base)
        else:  # still nothing: the whole window again (the target answers done ones from its cache)
            self._resend_from(self.base)
        self.progress = time.monotonic()
