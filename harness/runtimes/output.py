"""What third-party interpreters print (C code writing to fd 1 and 2 of a worker process): kept for
crash messages, copied to the run directory while a bench runs, never shown on the user's terminal
(where it would break the progress bar)."""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Iterator

_log_lock = threading.Lock()
_log: list = []  # the open log files of worker_log(), innermost last


@contextlib.contextmanager
def worker_log(path: os.PathLike) -> Iterator[None]:
    """While the block runs, whatever interpreters print (C code writing to fd 1 and 2 of a worker,
    like tflite's "INFO: Created TensorFlow Lite XNNPACK delegate") is appended to `path`, a file of
    the run directory; outside, it is only kept for crash messages. It never reaches the terminal."""
    sink = _LogFile(path)
    with _log_lock:
        _log.append(sink)
    try:
        yield
    finally:
        with _log_lock:
            _log.remove(sink)
        sink.close()


class _LogFile:
    """A log file created on its first line (a run whose interpreters say nothing has none)."""

    def __init__(self, path: os.PathLike) -> None:
        self.path, self.f = path, None

    def write(self, data: bytes) -> None:
        try:
            if self.f is None:
                self.f = open(self.path, "ab")
            self.f.write(data)
            self.f.flush()
        except OSError:
            pass  # a full disk loses log lines, never the run

    def close(self) -> None:
        if self.f is not None:
            self.f.close()


class Tail(threading.Thread):
    """Drains the worker's stdout/stderr (interpreters print there), keeps the last bytes for a crash
    message and copies everything to the worker_log() file, if one is open."""

    def __init__(self, conn) -> None:
        super().__init__(daemon=True)
        self.conn, self.buf = conn, b""

    def run(self) -> None:
        fd = self.conn.fileno()
        while chunk := os.read(fd, 4096):
            self.buf = (self.buf + chunk)[-2048:]
            with _log_lock:
                if _log:
                    _log[-1].write(chunk)
        self.conn.close()

    def last_line(self) -> str:
        self.join(1.0)
        lines = [ln.strip() for ln in self.buf.decode("utf-8", "replace").splitlines() if ln.strip()]
        return lines[-1][:200] if lines else ""
