"""Host side of the wire protocol (docs/protocol.md) over any byte stream.

A stream is anything with `read(n) -> bytes` (1..n bytes, or b"" after a short wait) and
`write(data)`: SerialStream wraps a pyserial object (/dev/ttyACM0, socket://, rfc2217://,
loop://); the SSH agent client passes its channel. Every HELLO opens a new session and requests
are numbered 1, 2, … in it, so a frame delivered late (a duplicate, a reply to an earlier
exchange) never passes for the one awaited. Requests go out in a window (go-back-N, Window in
protocol/window.py): the target runs them in order, answers a repeated request from its cache, and
NAKs a request that arrives after a lost one and every damaged frame, so a loss costs one
re-send instead of a timeout; the chunk size follows the losses (protocol/noise.py).
"""

from __future__ import annotations

import random
import time

from ..deadline import Deadline
from ..errors import LinkError, ModelError, TargetError, TargetTimeout, UnsupportedModel
from . import wire
from .noise import LinkTooNoisy, Noise
from .requests import Req, TargetRebooted
from .window import Window

SESSION_RENEW = wire.SEQ_MAX - (1 << 24)  # a session this old is replaced (HELLO) before its seq can wrap
STALL_NOISY_S = 0.1  # on a link losing frames, a frame begun and silent this long lost its delimiter
HELLO_RESEND_MIN_S = 0.005  # a damaged frame or a NAK re-sends HELLO at once, but not faster than this


class NotLoaded(TargetError):
    """ERROR NOT_LOADED: after a model was loaded this means the target lost it (a reboot)."""


_ERRORS = {wire.E_CORRUPT: ModelError, wire.E_UNSUPPORTED: UnsupportedModel, wire.E_ARENA: UnsupportedModel,
           wire.E_TOO_BIG: UnsupportedModel, wire.E_TOO_LARGE: UnsupportedModel, wire.E_NOT_LOADED: NotLoaded,
           wire.E_SHA_MISMATCH: LinkError, wire.E_INCOMPLETE: LinkError}


class Link:
    """Request/response in sessions, with a window, NAK-driven and timed re-sends."""

    def __init__(self, stream, where: str, frame_timeout: float = 0.5, retries: int = 10, window: int = 8) -> None:
        self.stream, self.where = stream, where
        self.frame_timeout, self.max_retries, self.window_opt = frame_timeout, retries, window
        self.window = 1
        self.max_body = 256
        self.decoder = wire.Decoder()
        self.session = 0  # opened by hello(); requests are numbered from 1 in it
        self.seq = 0
        self._sessions = random.randrange(1, 1 << 32)  # this link's sessions: consecutive, never 0
        self.noise = Noise()
        self.retries = 0  # frames re-sent, over the link's life
        self.boot_id = ""
        self.boot_ids: set[str] = set()  # every boot seen: a late copy of an old boot HELLO is no reboot
        self.facts: dict = {}
        self.slowest: dict[int, float] = {}  # request type → longest wait for its reply (s)
        self._order = 0
        self._hello_timeout = 10.0
        self._heard = time.monotonic()  # when bytes last arrived

    def step(self, overhead: int) -> int:
        """Data bytes per frame now (the noise decides), in a frame whose body has `overhead` bytes more."""
        return max(1, min(self.noise.chunk, self.max_body - overhead))

    # ---- frames ----
    def _send(self, msg_type: int, seq: int, body: bytes, resend: bool = False) -> None:
        self.stream.write(wire.encode(msg_type, self.session, seq, body))
        self.noise.sent(resend)

    def _frames(self) -> list[wire.Frame]:
        """Frames that arrived; damaged ones are counted in noise.damaged. A frame begun but not
        ended for frame_timeout lost its delimiter: it counts as damaged (nothing else ends it)."""
        dropped = self.decoder.dropped
        data = self.stream.read(1 << 16)
        now = time.monotonic()
        if data:
            self._heard = now
        elif now - self._heard > (STALL_NOISY_S if self.noise.verdicts.ones else self.frame_timeout):
            self.decoder.drop_partial()
        frames = self.decoder.feed(data)
        self.noise.damaged += self.decoder.dropped - dropped
        return frames

    def probe(self) -> None:
        """A lone delimiter: ends a request whose own delimiter was lost (the target then runs it,
        or NAKs it damaged); an empty frame that costs nothing otherwise."""
        self.stream.write(b"\x00")

    def _next_seq(self) -> int:
        self.seq += 1
        if self.seq > wire.SEQ_MAX:  # unreachable: transact() renews the session long before
            raise LinkError(f"{self.where}: session {self.session:08x} used up every sequence number")
        return self.seq

    def _check_boot(self, f: wire.Frame) -> None:
        """Raise TargetRebooted on a boot HELLO of a boot not seen before (a late copy is no reboot)."""
        if f.type == wire.HELLO | wire.REPLY and self.boot_id:
            try:
                facts = wire.unpack_hello(f.body)
            except ValueError:
                return
            boot_id = str(facts.get("boot_id", ""))
            if facts.get("boot") and boot_id not in self.boot_ids:
                raise TargetRebooted(f"{self.where}: the target rebooted (boot id {boot_id})", boot_id)

    def error(self, body: bytes, req: Req) -> TargetError:
        code, text = wire.unpack_error(body)
        cls = _ERRORS.get(code, TargetError)
        err = cls(f"{self.where}: {wire.name(req.type)}: {text} [{wire.ERROR_NAMES.get(code, code)}]")
        err.code = code
        return err

    # ---- HELLO ----
    def hello(self, timeout: float, brief: bool = False) -> dict:
        """Open a new session with HELLO; the target's facts (adopted). brief: only version, nonce and
        boot id, the facts kept (new_session()). TargetTimeout names the URL."""
        deadline = Deadline(timeout)
        self._hello_timeout = timeout
        nonce = random.randrange(1, 1 << 32)
        self._sessions = self._sessions % wire.SEQ_MAX + 1
        self.session, self.seq = self._sessions, 0
        damaged0, resend = self.noise.damaged, False
        while not deadline.expired():
            self._send(wire.HELLO, 0, wire.pack_hello_request(nonce, brief), resend)
            resend, sent = True, time.monotonic()
            again = sent + max(0.5, self.frame_timeout)
            while time.monotonic() < again and not deadline.expired():
                damaged = self.noise.damaged
                for f in self._frames():
                    facts = self._hello_reply(f, nonce)
                    if facts is not None:
                        return facts if brief else self._adopt(facts)
                    if f.type == wire.NAK:  # the target dropped our HELLO damaged: at once again
                        again = min(again, sent + HELLO_RESEND_MIN_S)
                if self.noise.damaged != damaged:  # its reply arrived damaged
                    again = min(again, sent + HELLO_RESEND_MIN_S)
        damaged = self.noise.damaged - damaged0
        if damaged:
            raise LinkTooNoisy(f"{self.where}: no HELLO within {timeout:g} s, but {damaged} damaged frames arrived: "
                               f"the target answers and the link is too noisy; check the cable, baud rate and "
                               f"ground, or shorten the line")
        raise TargetTimeout(f"{self.where}: no HELLO within {timeout:g} s; check that the board is powered and runs "
                            f"the harness firmware, and the port/URL and baud rate")

    def _hello_reply(self, f: wire.Frame, nonce: int) -> dict | None:
        """The facts if `f` is the reply to this session's HELLO, else None."""
        if f.type != wire.HELLO | wire.REPLY or f.session != self.session or f.seq != 0:
            return None
        try:
            facts = wire.unpack_hello(f.body)
        except ValueError:
            return None
        if facts.get("nonce") != nonce or facts.get("boot"):
            return None
        if facts.get("version") != wire.VERSION:
            raise TargetError(f"{self.where}: the target speaks protocol version {facts.get('version')}, this host "
                              f"{wire.VERSION}; rebuild and flash the firmware (make firmware) or update the agent")
        return facts

    def _adopt(self, facts: dict) -> dict:
        self.facts = facts
        self.boot_id = str(facts.get("boot_id", ""))
        self.max_body = int(facts.get("max_body", 256))
        self.noise.limit(self.max_body, first=not self.boot_ids)
        self.window = max(1, min(self.window_opt, int(facts.get("window", 1)), 64))
        self.boot_ids.add(self.boot_id)
        return facts

    # ---- the window ----
    def transact(self, reqs, answered=None) -> list[bytes]:
        """Send every request (any iterable, taken as the window has room; requests with data are
        split to the chunk the noise allows), a window in flight; the reply bodies in order.
        `answered(n)`, if given, hears each time more of the requests are answered in full (n of them).

        An ERROR reply raises (mapped by code); on any TargetError (a reboot, a cut link, a
        timeout) `.replies` holds the replies of the requests answered in full before it.
        """
        if self.seq > SESSION_RENEW:
            self.new_session()
        st = Window(self, reqs, answered)
        try:
            return st.run()
        except TargetError as e:
            e.replies = st.completed()
            raise

    def new_session(self) -> None:
        """A new session with the target already known (a brief HELLO): before the seq could wrap,
        or to run requests again after copies that can never get through; TargetRebooted if the
        target has booted since."""
        boot_id = str(self.hello(self._hello_timeout, brief=True).get("boot_id", ""))
        if boot_id != self.boot_id:
            raise TargetRebooted(f"{self.where}: the target rebooted (boot id {boot_id})", boot_id)

    def request(self, msg_type: int, body: bytes = b"", extra: float = 0.0) -> bytes:
        return self.transact([Req(msg_type, body, extra)])[0]

    # ---- raw rate ----
    def raw(self, msg_type: int, body: bytes, payload: bytes = b"", timeout: float = 60.0) -> float:
        """Seconds for one request followed by `payload` raw bytes (SINK), or answered by raw bytes
        (SOURCE), its reply included: what the link carries without frames (bench/perf_link.py)."""
        seq = self._next_seq()
        damaged = self.noise.damaged
        t0 = time.perf_counter()
        self.stream.write(wire.encode(msg_type, self.session, seq, body) + payload)
        deadline = Deadline(timeout)
        while not deadline.expired():
            for f in self._frames():
                if (f.session, f.seq) != (self.session, seq):
                    continue
                if f.type == wire.ERROR:
                    raise self.error(f.body, Req(msg_type))
                if f.type == msg_type | wire.REPLY:
                    self.noise.damaged = damaged  # raw bytes read as a "damaged" frame: not noise
                    return time.perf_counter() - t0
        raise TargetTimeout(f"{self.where}: no reply to {wire.name(msg_type)} within {timeout:g} s (raw rate)")
