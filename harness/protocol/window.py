"""One transact() of a Link (link.py): the requests in flight, their replies, and every re-send.

Go-back-N: the target runs requests in order and answers every frame it gets, so a NAK (request
e expected, j received, or a damaged frame), a reply that overtakes an unanswered one (its reply
was lost: the target has it cached), and a suspected loss followed by silence each re-send what
was lost at once; a probe (a lone delimiter) ends a request whose own delimiter was lost, and a
timeout is the last resort. A frame of another session, or of a request long answered, is
ignored; a NAK from a boot the session was not opened with is a reboot.

Requests that carry data (Req.data_at) or ask for it (Req.reads) are split to the link's current
chunk when they are sent (protocol/noise.py), their replies joined again. One already sent too big
for a link that turned noisy can never get through as it is (its copies must stay identical):
after RESPLIT_AFTER sends the unanswered ones open a new session (brief HELLO: no copy of the old
one can run any more), split to the chunk the noise allows, and run again in order — safe
because re-running them in order leaves the target as running them once did.
"""

from __future__ import annotations

import time

from ..errors import TargetTimeout
from . import wire
from .noise import LinkTooNoisy
from .requests import Req, SessionLost, TargetRebooted

SLOW_LINK_BYTES_S = 4000.0  # the slowest byte rate a timeout allows for before re-sending
PROBE_S = 0.05  # a request unanswered this long gets a lone delimiter after it (Link.probe)
QUIET_S = 0.02  # silence after a suspected loss that says the target has answered everything it got
QUICK_S = 0.1  # on a link losing frames, re-send once a request waited this + twice its kind's slowest reply
RESPLIT_AFTER = 2  # sends of a request too big for the chunk before it is split in a new session
CHANGES_STATE = {wire.LOAD_BEGIN, wire.LOAD_CHUNK, wire.LOAD_END, wire.SET_INPUT, wire.INVOKE, wire.RESET,
                 wire.SINK, wire.SOURCE}


class _Entry:
    """One request (or part of one) in the window."""

    __slots__ = ("req", "owner", "seq", "reply", "order", "sent_at", "sends", "nak_acted", "probed")

    def __init__(self, req: Req, owner: int) -> None:
        self.req, self.owner = req, owner
        self.seq = self.order = self.sends = 0
        self.nak_acted = self.probed = -1  # order of the copy a NAK already re-sent, a probe followed
        self.reply: tuple[int, bytes] | None = None
        self.sent_at = 0.0


class Window:
    """The state of one transact(): which requests are out, answered, re-sent."""

    def __init__(self, link, reqs, answered=None) -> None:
        self.link = link
        self.source = iter(reqs)
        self.answered = answered  # called with how many requests are answered in full, as that grows
        self.told = 0
        self.owners = 0  # requests taken from the source
        self.entries: list[_Entry] = []
        self.index: dict[int, _Entry] = {}  # seq → entry, for the entries sent in this session
        self.base = self.next = 0
        self.done = False  # the source is exhausted
        self.progress = time.monotonic()
        self.fails = 0
        self.suspect_order = 0  # lk._order when a loss was suspected (0: none pending)

    def completed(self) -> list[bytes]:
        """The joined replies of the requests answered in full, in order, up to the first that is not."""
        out: list[bytes] = []
        parts: list[bytes] = []
        for k, e in enumerate(self.entries[:self.base]):
            parts.append(e.reply[1])
            if k + 1 == len(self.entries) or self.entries[k + 1].owner != e.owner:
                out.append(b"".join(parts))
                parts = []
        return out[:self.entries[self.base].owner] if self.base < len(self.entries) else out

    def run(self) -> list[bytes]:
        lk = self.link
        while True:
            self._fill()
            if self.done and self.base == len(self.entries):
                return self.completed()
            damaged = lk.noise.damaged
            for f in lk._frames():
                self._on_frame(f)
            if lk.noise.damaged != damaged:
                self._suspect()
            self._advance()
            self._check_timeout()
            lk.noise.check(lk.where)
            if self.base < self.next and self._must_resplit(self.entries[self.base]):
                self._resplit()

    # ---- sending ----
    def _send(self, e: _Entry, resend: bool = False) -> None:
        lk = self.link
        lk._order += 1
        e.order, e.sent_at = lk._order, time.monotonic()
        e.sends += 1
        if resend:
            lk.retries += 1
        lk._send(e.req.type, e.seq, e.req.body, resend)

    def _resend_from(self, i: int) -> None:
        """A loss: every unanswered request from i on again."""
        self.link.noise.loss()
        for e in self.entries[i:self.next]:
            if e.reply is None:
                self._send(e, True)

    def _step(self, req: Req) -> int:
        return self.link.step(req.data_at)

    def _fill(self) -> None:
        lk = self.link
        while self.next - self.base < lk.window:
            if self.next == len(self.entries):
                req = None if self.done else next(self.source, None)
                if req is None:
                    self.done = True
                    return
                self.entries += [_Entry(r, self.owners) for r in req.split(self._step(req))]
                self.owners += 1
            e = self.entries[self.next]
            e.seq = lk._next_seq()
            self.index[e.seq] = e
            self._send(e)
            self.next += 1

    # ---- too big for the link now ----
    def _must_resplit(self, e: _Entry) -> bool:
        """e keeps failing and is too big for the chunk now; re-running from e in order is safe
        (a read re-run after a later request changed the target would read the wrong state)."""
        if e.reply is not None or e.sends < RESPLIT_AFTER or e.req.size() <= self._step(e.req):
            return False
        return not (e.req.reads and any(x.req.type in CHANGES_STATE for x in self.entries[self.base + 1:self.next]))

    def _resplit(self) -> None:
        self.link.new_session()  # no copy sent in the old one can run any more
        tail = self.entries[self.base:]
        del self.entries[self.base:]
        for e in tail:
            self.entries += [_Entry(r, e.owner) for r in e.req.split(self._step(e.req))]
        self.index.clear()
        self.next = self.base
        self.progress, self.fails = time.monotonic(), 0

    # ---- receiving ----
    def _suspect(self) -> None:
        """A loss that names no request (a damaged frame either way, a NAK of a copy already
        re-sent): if the link then falls silent, the target has answered all it got."""
        self.suspect_order = self.link._order

    def _after_silence(self) -> bool:
        """After a suspected loss, silence: every copy sent before it was lost or NAKed (the target
        answers each frame it gets, in order): re-send from the first unanswered."""
        lk = self.link
        if not self.suspect_order or time.monotonic() - lk._heard < QUIET_S:
            return False
        order, self.suspect_order = self.suspect_order, 0
        if self.entries[self.base].order > order:
            return False
        self._resend_from(self.base)
        return True

    def _on_frame(self, f: wire.Frame) -> None:
        lk = self.link
        if f.type == wire.NAK:
            return self._on_nak(f)
        lk._check_boot(f)
        e = self.index.get(f.seq) if f.session == lk.session else None
        if e is None or e.reply is not None or f.type not in (wire.ERROR, e.req.type | wire.REPLY):
            return  # a late duplicate, a stale reply, another session's
        now = time.monotonic()
        e.reply = (f.type, f.body)
        lk.noise.answered()
        if e is self.entries[self.base] and e.sends == 1:  # the target's own time (a re-sent one's includes the loss)
            waited = now - max(self.progress, e.sent_at)
            lk.slowest[e.req.type] = max(lk.slowest.get(e.req.type, 0.0), waited)
        self.progress, self.fails = now, 0
        for k in range(self.base, self.next):  # replies lost before this one: the target has them cached
            x = self.entries[k]
            if x is e:
                break
            if x.reply is None and x.order < e.order:
                lk.noise.loss()
                self._send(x, True)

    def _on_nak(self, f: wire.Frame) -> None:
        lk = self.link
        reason, got_session, got, boot_id = wire.unpack_nak(f.body)
        if reason == wire.NAK_DAMAGED:
            if boot_id not in lk.boot_ids:
                raise TargetRebooted(f"{lk.where}: the target rebooted (boot id {boot_id})", boot_id)
            if f.session == lk.session and not self._nak_resend(self.index.get(f.seq)):
                self._suspect()
            return
        if reason != wire.NAK_ORDER or got_session != lk.session:
            return  # it answers a frame of another session: a late copy
        if boot_id != lk.boot_id:  # our session's frame reached a boot after the one we said HELLO to
            raise TargetRebooted(f"{lk.where}: the target rebooted (boot id {boot_id})", boot_id)
        if f.session != lk.session:
            raise SessionLost(f"{lk.where}: the target left this session for session {f.session:08x} (a stray "
                              f"HELLO, or another host on the same port)", boot_id)
        j = self.index.get(got)
        if j is not None and not self._nak_resend(self.index.get(f.seq), j):  # (j None: a late copy of a
            self._suspect()  # request answered long ago, nothing lost)

    def _nak_resend(self, e: _Entry | None, j: _Entry | None = None) -> bool:
        """The target expects e, and got j (or, j None, a damaged frame): e's latest copy was lost
        if j's was sent after it. Only one NAK per copy of e acts (the other frames in flight NAK
        the same loss; a later loss of the new copy is left to _after_silence). Whether it acted."""
        if e is None or e.reply is not None or e.nak_acted == e.order or (j is not None and j.order <= e.order):
            return e is None or e.reply is not None
        self._resend_from(self.entries.index(e, self.base, self.next))
        e.nak_acted = e.order
        return True

    def _advance(self) -> None:
        while self.base < self.next and self.entries[self.base].reply is not None:
            e = self.entries[self.base]
            if e.reply[0] == wire.ERROR:
                raise self.link.error(e.reply[1], e.req)
            del self.index[e.seq]
            self.base += 1
        if self.answered is not None:
            n = self.entries[self.base].owner if self.base < len(self.entries) else self.owners
            if n > self.told:
                self.told = n
                self.answered(n)

    def _check_timeout(self) -> None:
        """Probe, re-send or give up on the request awaited first, by how long it has waited."""
        lk = self.link
        if self.base >= self.next:
            return
        e = self.entries[self.base]
        now = time.monotonic()
        waited = now - max(self.progress, e.sent_at)
        if waited >= min(lk.frame_timeout, PROBE_S) and e.probed != e.order:  # its delimiter may be lost:
            lk.probe()  # a slow request (LOAD_END, INVOKE) would otherwise wait its whole allowance first
            e.probed = e.order
        if self._after_silence():
            return
        # A frame's own bytes take time on a slow link (QEMU's UART: ~20 KB/s, less when busy).
        allow = lk.frame_timeout + e.req.extra + len(e.req.body) / SLOW_LINK_BYTES_S
        if now - self.progress > (lk.max_retries + 1) * allow:
            self._give_up(e)
        seen = lk.slowest.get(e.req.type)
        if lk.noise.verdicts.ones and seen is not None and waited >= min(allow, QUICK_S + 2 * seen):
            lk.noise.loss()  # losing frames lately: a second loss is likelier than a slow target
            return self._send(e, True)
        if waited < allow:
            return
        self.fails += 1
        if self.fails > lk.max_retries:
            self._give_up(e)
        lk.noise.loss()
        if self.fails == 1:  # most often one lost reply or request: re-send just that one
            self._send(e, True)
        else:  # still nothing: the whole window again (the target answers done ones from its cache)
            for x in self.entries[self.base:self.next]:
                if x.reply is None:
                    self._send(x, True)
        self.progress = time.monotonic()

    def _give_up(self, e: _Entry) -> None:
        lk = self.link
        if lk.noise.noisy():
            raise LinkTooNoisy(lk.noise.verdict(lk.where) + f"; no reply to {wire.name(e.req.type)} after "
                               f"{lk.max_retries} re-sends")
        raise TargetTimeout(f"{lk.where}: no reply to {wire.name(e.req.type)} after "
                            f"{lk.max_retries} re-sends ({lk.frame_timeout:g} s apart); is the target running?")
