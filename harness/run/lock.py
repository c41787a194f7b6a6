"""One process per run directory: two runs writing one journal would duplicate its batches."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os

from ..errors import ResultsError
from ..results.rundir import RunDir


class RunLock:
    """One process per run directory: run.lock, flock'd while held, holds the holder's pid.

    The kernel drops the flock when the holder dies, so a pid left in the file by a killed run
    is a stale lock: it is taken over, with a note."""

    def __init__(self, rd: RunDir) -> None:
        self.path = rd.file("run.lock")
        self.fd: int | None = None

    def acquire(self) -> str:
        """Take the lock; a note when a stale one was taken over ("" otherwise)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise ResultsError(f"{self.path}: cannot create the lock ({e.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise ResultsError(f"{self.path.parent}: in use by process {holder} (run.lock); one process per "
                                   "run directory — wait for it to end or stop it first") from None
            raise ResultsError(f"{self.path}: cannot lock ({e.strerror})") from None
        old = os.read(fd, 32).decode(errors="replace").strip()
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        if old and old != str(os.getpid()):
            return f"took over the stale lock of process {old}, which no longer runs this directory"
        return ""

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)
        os.close(self.fd)  # closing drops the flock
        self.fd = None
