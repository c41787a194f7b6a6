"""One transact() of a Link (link.py): the requests in flight, their replies, and every re-send.

Go-back-N: the target runs requests in order, so a NAK (request i expected, j received), a reply
that overtakes an unanswered one (its reply was lost: the target has it cached), a damaged frame
from the target and a timeout each re-send what was lost, and the losses steer the chunk and
window (link_noise.py). A frame of another session, or of a request long answered, is ignored;
a NAK from a boot the session was not opened with is a reboot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .agent import wire
from .errors import LinkError, TargetTimeout
from .link_noise import LinkTooNoisy

SLOW_LINK_BYTES_S = 4000.0  # the slowest byte rate a timeout allows for before re-sending


class TargetRebooted(LinkError):
    """The target announced a new boot (or NAKed with a new boot id) mid-conversation."""

    def __init__(self, msg: str, boot_id: str = "") -> None:
        super().__init__(msg)
        self.boot_id = boot_id
        self.replies: list[bytes] = []  # replies of the requests completed before the reboot


class SessionLost(TargetRebooted):
    """The target NAKs from another session (a stray HELLO reached it): recover as after a reboot."""


@dataclass
class Req:
    """One request: type, body, and seconds it may legitimately take beyond a frame timeout."""

    type: int
    body: bytes = b""
    extra: float = 0.0


class Window:
    """The state of one transact(): which requests are out, answered, re-sent."""

    def __init__(self, link, reqs) -> None:
        self.link = link
        self.source = iter(reqs)
        self.reqs: list[Req] = []
        self.replies: list = []
        self.seqs: list[int] = []
        self.order: list[int] = []  # global send counter of each request's latest transmission
        self.sent_at: list[float] = []
        self.index: dict[int, int] = {}
        self.nak_acted: dict[int, int] = {}  # index → order of the copy a NAK already re-sent
        self.base = self.next = 0
        self.done = False  # the source is exhausted
        self.progress = time.monotonic()
        self.fails = 0

    def _send(self, i: int, resend: bool = False) -> None:
        lk = self.link
        lk._order += 1
        self.order[i] = lk._order
        self.sent_at[i] = time.monotonic()
        if resend:
            lk.retries += 1
        lk._send(self.reqs[i].type, self.seqs[i], self.reqs[i].body, resend)

    def _resend_from(self, i: int) -> None:
        """A loss: every unanswered request from i on again."""
        self.link.noise.loss()
        for k in range(i, self.next):
            if self.replies[k] is None:
                self._send(k, True)

    def _fill(self) -> None:
        lk = self.link
        while self.next - self.base < lk.window:
            if self.next == len(self.reqs):
                req = None if self.done else next(self.source, None)
                if req is None:
                    self.done = True
                    return
                self.reqs.append(req)
                self.replies.append(None)
                self.seqs.append(lk._next_seq())
                self.order.append(0)
                self.sent_at.append(0.0)
                self.index[self.seqs[-1]] = self.next
            self._send(self.next)
            self.next += 1

    def run(self) -> list[bytes]:
        lk = self.link
        while not (self.done and self.base == len(self.reqs)):
            self._fill()
            order, damaged = lk._order, lk.noise.damaged
            for f in lk._frames():
                self._on_frame(f)
            if lk.noise.damaged != damaged:
                self._on_damaged(order)
            self._advance()
            self._check_timeout()
            lk.noise.check(lk.where)
        return [b for _, b in self.replies]

    def _on_damaged(self, order: int) -> None:
        """A damaged frame from the target: most likely the reply awaited first; re-send it now
        unless this read already re-sent it."""
        if self.base < self.next and self.replies[self.base] is None and self.order[self.base] <= order:
            self.link.noise.loss()
            self._send(self.base, True)

    def _on_frame(self, f: wire.Frame) -> None:
        lk = self.link
        if f.type == wire.NAK:
            return self._on_nak(f)
        lk._check_boot(f)
        i = self.index.get(f.seq) if f.session == lk.session else None
        if i is None or self.replies[i] is not None or f.type not in (wire.ERROR, self.reqs[i].type | wire.REPLY):
            return  # a late duplicate, a stale reply, another session's
        now = time.monotonic()
        self.replies[i] = (f.type, f.body)
        if i == self.base:
            waited = now - max(self.progress, self.sent_at[i])
            lk.slowest[self.reqs[i].type] = max(lk.slowest.get(self.reqs[i].type, 0.0), waited)
        self.progress, self.fails = now, 0
        for k in range(self.base, i):  # replies lost before this one: the target has them cached
            if self.replies[k] is None and self.order[k] < self.order[i]:
                lk.noise.loss()
                self._send(k, True)

    def _on_nak(self, f: wire.Frame) -> None:
        lk = self.link
        reason, got_session, got, boot_id = wire.unpack_nak(f.body)
        if reason == wire.NAK_DAMAGED:
            if boot_id not in lk.boot_ids:
                raise TargetRebooted(f"{lk.where}: the target rebooted (boot id {boot_id})", boot_id)
            if f.session == lk.session:
                self._nak_resend(self.index.get(f.seq))
            return
        if reason != wire.NAK_ORDER or got_session != lk.session:
            return  # it answers a frame of another session: a late copy
        if boot_id != lk.boot_id:  # our session's frame reached a boot after the one we said HELLO to
            raise TargetRebooted(f"{lk.where}: the target rebooted (boot id {boot_id})", boot_id)
        if f.session != lk.session:
            raise SessionLost(f"{lk.where}: the target left this session for session {f.session:08x} (a stray "
                              f"HELLO, or another host on the same port)", boot_id)
        j = self.index.get(got)
        if j is not None:  # else a late copy of a request answered long ago: nothing was lost
            self._nak_resend(self.index.get(f.seq), j)

    def _nak_resend(self, i: int | None, j: int | None = None) -> None:
        """The target expects request i, and got j (or, j None, a damaged frame): i's latest copy
        was lost if j's was sent after it. Only one NAK per copy of i acts (the other frames in
        flight NAK the same loss)."""
        if i is None or self.replies[i] is not None or self.nak_acted.get(i) == self.order[i]:
            return
        if j is not None and self.order[j] <= self.order[i]:
            return
        self._resend_from(i)
        self.nak_acted[i] = self.order[i]

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
            if lk.noise.noisy():
                raise LinkTooNoisy(lk.noise.verdict(lk.where) + f"; no reply to {wire.name(req.type)} after "
                                   f"{lk.max_retries} re-sends")
            raise TargetTimeout(f"{lk.where}: no reply to {wire.name(req.type)} after "
                                f"{lk.max_retries} re-sends ({lk.frame_timeout:g} s apart); is the target running?")
        lk.noise.loss()
        if self.fails == 1:  # most often one lost reply or request: re-send just that one
            self._send(self.base, True)
        else:  # still nothing: the whole window again (the target answers done ones from its cache)
            for k in range(self.base, self.next):
                if self.replies[k] is None:
                    self._send(k, True)
        self.progress = time.monotonic()
