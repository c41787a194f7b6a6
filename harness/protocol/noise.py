"""How much a noisy link can carry: the data bytes per frame follow the losses seen, and a link
that loses nearly everything says so instead of crawling.

Every frame a corrupted or dropped byte touches is lost whole, so a frame of n bytes arrives with
probability (1 − p)^n on a link that damages one byte in 1/p. Big frames pay off on a clean link
and ruin a noisy one (one byte in 200 and 2 KB chunks: no chunk ever arrived). So the link keeps
a chunk size (data bytes per frame: LOAD_CHUNK, SET_INPUT, GET_OUTPUT, GET_TENSOR; protocol/window.py
splits requests to it) and moves it by the share of frames lost (loss events ÷ loss events +
replies): above SHRINK_ABOVE after at least SHRINK_AFTER losses it halves (quarters above
SHRINK_FAST), below GROW_BELOW over GROW_AFTER replies it doubles back. A clean link never leaves
its maximum. The window stays: shrinking it too was measured slower on QEMU at 1/200 and 1/100
(a window of small frames re-sends cheaply and keeps the link busy).
"""

from __future__ import annotations

from collections import deque

from ..errors import LinkError

MIN_CHUNK = 32
SHRINK_ABOVE, SHRINK_FAST, SHRINK_AFTER = 0.20, 0.60, 2  # lost share; losses measured before shrinking
GROW_BELOW, GROW_AFTER = 0.06, 32  # lost share; replies measured before growing
RECENT = 256  # transmissions and frame verdicts the shares are measured over
HOPELESS = 0.90  # lost share over RECENT verdicts at the smallest chunk: give up


class LinkTooNoisy(LinkError):
    """Frames keep failing although the target answers: say so, with the figures."""


class _Share:
    """The share of 1s among the last RECENT events."""

    def __init__(self) -> None:
        self.events: deque[int] = deque(maxlen=RECENT)
        self.ones = 0

    def add(self, one: bool) -> None:
        if len(self.events) == RECENT:
            self.ones -= self.events[0]
        self.events.append(int(one))
        self.ones += int(one)

    def share(self) -> float:
        return self.ones / len(self.events) if self.events else 0.0


class Noise:
    """Losses and re-sends of one link, and its current chunk size."""

    def __init__(self) -> None:
        self.chunk = self.chunk_max = 1 << 16
        self.lost = self.ok = 0  # since the last change of chunk
        self.resent = _Share()  # per transmission: was it a re-send?
        self.verdicts = _Share()  # per frame verdict: lost (1) or answered (0)
        self.damaged = 0  # damaged frames received, over the link's life

    def limit(self, chunk_max: int, first: bool) -> None:
        """The largest chunk (from HELLO): the first HELLO starts there, a later one keeps what noise taught."""
        self.chunk_max = max(MIN_CHUNK, chunk_max)
        self.chunk = self.chunk_max if first else min(self.chunk, self.chunk_max)

    def sent(self, resend: bool) -> None:
        self.resent.add(resend)

    def loss(self) -> None:
        """A frame was lost one way or the other (a NAK, a gap, a damaged frame, a timeout)."""
        self.lost += 1
        self.verdicts.add(True)
        share = self.lost / (self.lost + self.ok)
        if self.lost >= SHRINK_AFTER and share > SHRINK_ABOVE:
            self.chunk = max(MIN_CHUNK, self.chunk // (4 if share > SHRINK_FAST else 2))
            self.lost = self.ok = 0

    def answered(self) -> None:
        self.ok += 1
        self.verdicts.add(False)
        if self.ok >= GROW_AFTER:
            if self.lost / (self.lost + self.ok) < GROW_BELOW:
                self.chunk = min(self.chunk_max, 2 * self.chunk)
            self.lost = self.ok = 0

    def check(self, where: str) -> None:
        """LinkTooNoisy when, at the smallest chunk, nearly every frame is lost."""
        v = self.verdicts
        if self.chunk == MIN_CHUNK and len(v.events) == RECENT and v.share() >= HOPELESS:
            raise LinkTooNoisy(self.verdict(where))

    def noisy(self) -> bool:
        """Did frames arrive damaged or need re-sending lately (rather than no answer at all)?"""
        return self.damaged > 0 or self.resent.ones > 0

    def verdict(self, where: str) -> str:
        r, v = self.resent, self.verdicts
        return (f"{where}: link too noisy: {100 * r.share():.0f} % of the last {len(r.events)} frames re-sent, "
                f"{100 * v.share():.0f} % of the last {len(v.events)} lost, {self.damaged} damaged frames received "
                f"(chunk now {self.chunk} bytes); check the cable, baud rate and ground, or shorten the line")
