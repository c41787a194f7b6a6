"""A monotonic deadline passed down the call chain instead of scattered sleeps."""

from __future__ import annotations

import time

from .errors import TargetTimeout


class Deadline:
    """Seconds left until a fixed point on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self._end

    def check(self, what: str) -> None:
        """Raise TargetTimeout naming `what` once the deadline has passed."""
        if self.expired():
            raise TargetTimeout(f"{what}: no answer within {self.seconds:g} s")
