"""Child processes the harness starts (QEMU, ser2net, lab workers, interpreter workers): they die with
it, get free ports, and a Python child runs this same copy of the harness."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

HOME = str(Path(__file__).resolve().parents[1])  # the folder holding this copy of the harness package


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the caller retries if it is taken since)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent() -> None:
    """preexec_fn of a child: SIGTERM when the harness dies (PR_SET_PDEATHSIG), so none is left behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def python_path(current: str | None = None) -> str:
    """PYTHONPATH for a Python child (`python -m harness.…`, a worker process): this copy of the
    harness first, so the child runs the same code as its parent whatever its working folder."""
    return os.pathsep.join([HOME, *filter(None, [current])])


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a Python child process (see python_path)."""
    return {**os.environ, "PYTHONPATH": python_path(os.environ.get("PYTHONPATH")), **extra}
