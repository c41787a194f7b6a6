"""A request of the wire protocol as the host's window sends it (Req: how it splits to a chunk),
and the ways a transact() can end that a driver recovers from (a reboot, a lost session)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import LinkError


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
    """One request: type, body, seconds it may legitimately take beyond a frame timeout, and how
    it splits: data_at > 0: the body's data starts there, after its offset u32 (LOAD_CHUNK,
    SET_INPUT); reads: the body ends with offset u32, length u32 of the data the reply carries."""

    type: int
    body: bytes = b""
    extra: float = 0.0
    data_at: int = 0
    reads: bool = False

    def size(self) -> int:
        """Data bytes this request carries or asks for (0: it does not split)."""
        if self.data_at:
            return len(self.body) - self.data_at
        return struct.unpack_from("<I", self.body, len(self.body) - 4)[0] if self.reads else 0

    def split(self, step: int) -> list["Req"]:
        """Requests of at most `step` data bytes that together do what this one does."""
        n = self.size()
        if n <= step:
            return [self]
        if self.data_at:
            head, at = self.body[:self.data_at - 4], self.data_at
            (offset,) = struct.unpack_from("<I", self.body, at - 4)
            return [Req(self.type, head + struct.pack("<I", offset + k) + self.body[at + k:at + k + step], self.extra,
                        at) for k in range(0, n, step)]
        head = self.body[:-8]
        offset, _ = struct.unpack_from("<II", self.body, len(self.body) - 8)
        return [Req(self.type, head + struct.pack("<II", offset + k, min(step, n - k)), self.extra, reads=True)
                for k in range(0, n, step)]
