"""How much a noisy link can carry: the data bytes per frame and the frames in flight follow the
losses seen, and a link that loses nearly everything says so instead of crawling.

Every frame a corrupted or dropped byte touches is lost whole, so a frame of n bytes arrives with
probability (1 − p)^n on a link that damages one byte in 1/p, and go-back-N throws away the
frames in flight behind a lost one. Big frames and a wide window pay off on a clean link and ruin
a noisy one (1 byte in 200 with 2 KB chunks: no chunk ever arrived). So the link keeps two
settings, the chunk (data bytes per frame: LOAD_CHUNK, SET_INPUT, GET_OUTPUT, GET_TENSOR) and the
window, and moves them by factors of two: while more than SHRINK_ABOVE of the frames sent since the
last change were lost, first the chunk halves (down to MIN_CHUNK), then the window; after
GROW_AFTER frames with fewer than GROW_BELOW lost, first the window doubles back, then the chunk.
A clean link never leaves its maxima.
"""

from __future__ import annotations

from collections import deque

from .errors import LinkError

MIN_CHUNK = 32
SHRINK_ABOVE, SHRINK_AFTER = 0.20, 16  # lost share, frames measured before shrinking
GROW_BELOW, GROW_AFTER = 0.06, 32
RECENT = 256  # transmissions the re-sent share is measured over
HOPELESS = 0.90  # re-sent share over RECENT frames at the smallest settings: give up


class LinkTooNoisy(LinkError):
    """Frames keep failing although the target answers: say so, with the figures."""


class Noise:
    """Losses and re-sends of one link; its current chunk and window."""

    def __init__(self) -> None:
        self.chunk = self.chunk_max = 1 << 16
        self.window = self.window_max = 0  # 0: no HELLO yet
        self.tx = self.lost = 0  # since the last change of chunk or window
        self.recent: deque[int] = deque(maxlen=RECENT)  # 1 per transmission that was a re-send
        self.recent_resent = 0
        self.damaged = 0  # damaged frames received, over the link's life

    def limits(self, chunk_max: int, window_max: int) -> None:
        """The maxima (from HELLO): the first HELLO starts at them, a later one keeps what noise taught."""
        first = self.window_max == 0
        self.chunk_max, self.window_max = max(MIN_CHUNK, chunk_max), max(1, window_max)
        self.chunk = self.chunk_max if first else min(self.chunk, self.chunk_max)
        self.window = self.window_max if first else min(self.window, self.window_max)

    def sent(self, resend: bool) -> None:
        if len(self.recent) == RECENT:
            self.recent_resent -= self.recent[0]
        self.recent.append(int(resend))
        self.recent_resent += int(resend)
        self.tx += 1
        self._adapt()

    def loss(self) -> None:
        """A frame was lost one way or the other (a NAK, a gap, a damaged frame, a timeout)."""
        self.lost += 1

    def _adapt(self) -> None:
        share = self.lost / self.tx
        if self.tx >= SHRINK_AFTER and share > SHRINK_ABOVE:
            if self.chunk > MIN_CHUNK:
                self.chunk = max(MIN_CHUNK, self.chunk // 2)
            elif self.window > 1:
                self.window //= 2
            self.tx = self.lost = 0
        elif self.tx >= GROW_AFTER:
            if share < GROW_BELOW:
                if self.window < self.window_max:
                    self.window = min(self.window_max, 2 * self.window)
                else:
                    self.chunk = min(self.chunk_max, 2 * self.chunk)
            self.tx = self.lost = 0

    def resent_share(self) -> float:
        return self.recent_resent / len(self.recent) if self.recent else 0.0

    def check(self, where: str) -> None:
        """LinkTooNoisy when, at the smallest chunk and window, nearly every frame is re-sent."""
        if (self.chunk == MIN_CHUNK and self.window == 1 and len(self.recent) == RECENT
                and self.resent_share() >= HOPELESS):
            raise LinkTooNoisy(self.verdict(where))

    def noisy(self) -> bool:
        """Did frames arrive damaged or need re-sending recently (rather than no answer at all)?"""
        return self.damaged > 0 or self.recent_resent > 0

    def verdict(self, where: str) -> str:
        return (f"{where}: link too noisy: {100 * self.resent_share():.0f} % of the last {len(self.recent)} frames "
                f"re-sent, {self.damaged} damaged frames received (chunk now {self.chunk} bytes, window "
                f"{self.window}); check the cable, baud rate and ground, or shorten the line")
