"""Third-party interpreters run in a child process: a crash there is one line, not our death.

tflite-runtime, ai-edge-litert and the TFLM PyPI interpreter parse models with unchecked
offsets and abort or segfault on some hostile files that our verifier accepts (a corrupted
option, a weight that makes a kernel divide by zero). Each interpreter of each model gets one
worker process (harness.worker), forked from a forkserver that has already imported numpy and
the runtimes, so a worker starts in milliseconds. Parent and worker talk over one pipe: a JSON
header, then raw numpy arrays (no pickle in either direction). A worker that dies becomes
InterpreterCrashed("TFLM crashed on this model: SIGABRT"), with the last line it printed.
"""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import secrets
import signal
import struct
import sys
import types
from multiprocessing import connection, util
from typing import Sequence

import numpy as np

from ..errors import ConfigError, InputError, ModelError, UnsupportedModel
from ..proc import python_path
from .output import Tail

PRELOAD = ["numpy", "harness.runtimes.preload"]
_DTYPES = {np.dtype(t).str for t in ("i1", "u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8", "?")}
_MAX_HEADER = 1 << 20
PIPE_BYTES = 1 << 20
_MAX_ARRAY = 1 << 34
_ERRORS = {"ConfigError": ConfigError, "ModelError": ModelError, "InputError": InputError,
           "UnsupportedModel": UnsupportedModel}
_ctx = None
_ORIGINAL_ADDRESS = connection.arbitrary_address


class InterpreterCrashed(UnsupportedModel):
    """The interpreter's process died on this model (a signal or an unexpected exit)."""


class ProtocolError(Exception):
    """A message on the worker pipe is not what the protocol allows."""


def context():
    """The forkserver context, created once: workers fork from a clean, pre-imported server."""
    global _ctx
    if _ctx is None:
        _ctx = multiprocessing.get_context("forkserver")
        _ctx.set_forkserver_preload(PRELOAD)  # without "__main__": never re-import the caller's script
    return _ctx


def send(conn: "Duplex", head: dict, arrays: Sequence[np.ndarray] = ()) -> None:
    """One message: the length of the JSON header (8 bytes), the header (with each array's dtype
    and shape), then each array's raw bytes — written straight from the arrays' memory."""
    arrays = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in map(np.asarray, arrays)]
    body = json.dumps({**head, "arrays": [[a.dtype.str, list(a.shape)] for a in arrays]}).encode()
    fd = conn.tx.fileno()
    _write_all(fd, memoryview(struct.pack("<Q", len(body)) + body))
    for a in arrays:
        if a.size:
            _write_all(fd, memoryview(a.reshape(-1).view(np.uint8)))


def recv(conn: "Duplex") -> tuple[dict, list[np.ndarray]]:
    """The next message, each array read straight into its own memory; EOFError when the other side
    is gone, ProtocolError when the header or an array is malformed."""
    fd = conn.rx.fileno()
    size = struct.unpack("<Q", _read_exact(fd, 8))[0]
    if size > _MAX_HEADER:
        raise ProtocolError(f"header of {size} bytes")
    try:
        head = json.loads(_read_exact(fd, size))
        arrays = [np.empty(_shape(s), _dtype(d)) for d, s in head.pop("arrays")]
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ProtocolError(f"malformed message ({e})") from None
    for a in arrays:
        if a.size:
            _read_into(fd, memoryview(a.reshape(-1).view(np.uint8)))
    return head, arrays


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view):]


def _read_into(fd: int, view: memoryview) -> None:
    while view:
        n = os.readv(fd, [view])
        if not n:
            raise EOFError("the other side closed the pipe")
        view = view[n:]


def _read_exact(fd: int, n: int) -> bytes:
    buf = bytearray(n)
    _read_into(fd, memoryview(buf))
    return bytes(buf)


def _dtype(s: str) -> np.dtype:
    if s not in _DTYPES:
        raise ValueError(f"dtype {s!r} not allowed")
    return np.dtype(s)


def _shape(s: list) -> tuple[int, ...]:
    shape = tuple(int(d) for d in s)
    if any(d < 0 for d in shape) or int(np.prod(shape, dtype=np.float64)) * 16 > _MAX_ARRAY:
        raise ValueError(f"shape {shape} not allowed")
    return shape


class _starting:
    """Three things multiprocessing does on Process.start() that a library must not:
    - it re-runs the caller's main script in every new process unless its main module is a
      package's __main__ (`python -m harness`): a user's script or `pytest` would be imported
      again in each worker — a bare stand-in __main__ for the microseconds of start();
    - before Python 3.12, the forkserver listens on a socket file in /tmp/pymp-*/ (left behind
      when the harness is killed): an abstract-namespace address instead, as 3.12 does on Linux;
    - the forkserver finds `harness` on its own sys.path (3.11 ignores the parent's), so a worker
      could run another copy of the harness than its parent (an installed one, when the parent
      runs from a checkout in another folder): the parent's copy goes first on PYTHONPATH."""

    def __enter__(self) -> None:
        self.main, self.address = sys.modules["__main__"], connection.arbitrary_address
        self.pythonpath = os.environ.get("PYTHONPATH")
        sys.modules["__main__"] = types.ModuleType("__main__")
        if util.abstract_sockets_supported:
            connection.arbitrary_address = _abstract_address
        os.environ["PYTHONPATH"] = python_path(self.pythonpath)

    def __exit__(self, *exc: object) -> None:
        sys.modules["__main__"], connection.arbitrary_address = self.main, self.address
        if self.pythonpath is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = self.pythonpath


def _abstract_address(family: str):
    """A Linux abstract-namespace address for AF_UNIX (no file anywhere)."""
    if family != "AF_UNIX":
        return _ORIGINAL_ADDRESS(family)
    return f"\0harness-forkserver-{os.getpid()}-{secrets.token_hex(8)}"


class Duplex:
    """Two one-way pipes as one connection (multiprocessing Connections: they carry the file
    descriptors to the worker; send/recv use the descriptors directly). A pipe's buffer can grow to
    1 MB, so an input batch crosses in a few large writes instead of a ping-pong of wake-ups."""

    def __init__(self, rx, tx) -> None:
        self.rx, self.tx = rx, tx

    def __getstate__(self) -> dict:
        return {"rx": self.rx, "tx": self.tx}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["rx"], state["tx"])

    def close(self) -> None:
        self.rx.close()
        self.tx.close()


def _duplex(ctx) -> tuple[Duplex, Duplex]:
    a_r, b_w = ctx.Pipe(duplex=False)
    b_r, a_w = ctx.Pipe(duplex=False)
    for conn in (a_r, b_r):
        try:
            fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except (AttributeError, OSError):  # not Linux, or above /proc/sys/fs/pipe-max-size
            pass
    return Duplex(a_r, a_w), Duplex(b_r, b_w)


class Worker:
    """One interpreter process. `label` names the interpreter in errors ("TFLM", "tflite-runtime")."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._proc = self._conn = self._tail = None

    def start(self) -> "Worker":
        from . import worker

        ctx = context()
        ours, theirs = _duplex(ctx)
        out_r, out_w = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=worker.serve, args=(theirs, out_w), daemon=True,
                                 name=f"harness {self.label}")
        with _starting():
            self._proc.start()
        theirs.close()
        out_w.close()
        self._conn, self._tail = ours, Tail(out_r)
        self._tail.start()
        return self

    def call(self, head: dict, arrays: Sequence[np.ndarray] = ()) -> tuple[dict, list[np.ndarray]]:
        """Send one request and return the reply; the worker's own errors come back as HarnessErrors."""
        if self._conn is None:
            raise UnsupportedModel(f"{self.label}: no model loaded (an earlier error closed the interpreter)")
        try:
            send(self._conn, head, arrays)
            reply, out = recv(self._conn)
        except (EOFError, OSError, ProtocolError) as e:
            raise self._dead(e) from None
        if "error" in reply:
            raise _ERRORS.get(reply.get("kind"), UnsupportedModel)(str(reply["error"]))
        return reply, out

    def _dead(self, why: BaseException) -> InterpreterCrashed:
        """The crash as one line: which interpreter, the signal or exit status, its last words."""
        proc = self._proc
        self._conn.close()
        self._conn = None
        proc.join(5)
        if proc.exitcode is None:  # alive but talking nonsense
            proc.kill()
            proc.join()
            how = f"broken reply ({why})"
        elif proc.exitcode < 0:
            how = signal.Signals(-proc.exitcode).name
        else:
            how = f"exit status {proc.exitcode}"
        last = self._tail.last_line()
        return InterpreterCrashed(f"{self.label} crashed on this model: {how}" + (f" (it said: {last})" if last else ""))

    def peak_rss(self) -> int | None:
        """The worker's peak resident set (Linux VmHWM) in bytes; None when it cannot be read."""
        try:
            with open(f"/proc/{self._proc.pid}/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, AttributeError, IndexError):
            return None
        return None

    def close(self) -> None:
        """End the worker (EOF on its pipe); kill it if it does not exit. Safe to call twice."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            self._proc.join(5)
            if self._proc.exitcode is None:
                self._proc.kill()
                self._proc.join()
            self._proc = None
