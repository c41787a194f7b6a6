"""The board agent over plain pipes (no SSH): HELLO, cached-model load, in-order execution, retries."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.agent import shipped_files
from harness.protocol import wire

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "models" / "digits_int8.tflite"


def shipped_copy(folder: Path) -> Path:
    """What the SSH driver pushes to a board (harness.agent.SHIPPED), and nothing else."""
    for rel, data in shipped_files().items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


class Pipe:
    """`python -m harness.agent` in a copy of the shipped files, as the board runs it (the copy is the
    `harness` package: a module it lacks cannot be imported), and raw frames to and from it."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.p = subprocess.Popen([sys.executable, "-E", "-s", "-u", "-m", "harness.agent", *args], cwd=folder,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.dec = wire.Decoder()
        self.pending: list = []

    SESSION = 0x5E55107  # the one session these tests open (HELLO) and speak in

    def send(self, msg_type: int, seq: int, body: bytes = b"") -> None:
        self.p.stdin.write(wire.encode(msg_type, self.SESSION, seq, body))
        self.p.stdin.flush()

    def recv(self) -> tuple[int, int, bytes]:
        """(type, seq, body) of the next frame; replies of our session (or the boot HELLO's 0)."""
        while not self.pending:
            data = os.read(self.p.stdout.fileno(), 65536)
            assert data, self.p.stderr.read().decode()
            self.pending += self.dec.feed(data)
        f = self.pending.pop(0)
        assert f.session in (self.SESSION, 0), f
        return f.type, f.seq, f.body

    def ask(self, msg_type: int, seq: int, body: bytes = b"") -> bytes:
        self.send(msg_type, seq, body)
        t, s, reply = self.recv()
        assert s == seq and t == msg_type | wire.REPLY, (t, wire.unpack_error(reply))
        return reply

    def close(self) -> None:
        self.p.stdin.close()
        assert self.p.wait(10) == 0


@pytest.fixture
def agent(tmp_path):
    if not DIGITS.exists():
        pytest.skip(f"{DIGITS} missing")
    data = DIGITS.read_bytes()
    (tmp_path / f"{hashlib.sha256(data).hexdigest()}.tflite").write_bytes(data)
    a = Pipe(shipped_copy(tmp_path / "board"), "--models", str(tmp_path))
    boot = a.recv()
    assert boot[0] == wire.HELLO | wire.REPLY and wire.unpack_hello(boot[2])["boot"] == 1
    yield a, data
    a.close()


def test_hello_cached_load_invoke_and_retry(agent):
    a, data = agent
    facts = wire.unpack_hello(a.ask(wire.HELLO, 7, wire.pack_hello_request(42)))
    assert facts["nonce"] == 42 and facts["timer"] == "ns" and facts["runtime"].startswith("tflite-runtime")
    sha = hashlib.sha256(data).digest()
    assert a.ask(wire.LOAD_BEGIN, 8, wire.pack_load_begin(len(data), sha)) == b"\x01"  # from the cache
    info = wire.unpack_load_end_reply(a.ask(wire.LOAD_END, 9, wire.pack_load_end()))
    (inp,), (out,) = info["inputs"], info["outputs"]
    x = np.arange(inp["bytes"], dtype=np.int64).astype(np.int8).tobytes()
    a.ask(wire.SET_INPUT, 10, wire.pack_set_input(0, 0, x))
    ticks, _ = wire.unpack_invoke_reply(a.ask(wire.INVOKE, 11, wire.pack_invoke(3)))
    assert len(ticks) == 3 and min(ticks) > 0
    first = a.ask(wire.GET_OUTPUT, 12, wire.pack_get_output(0, 0, out["bytes"]))
    assert len(first) == out["bytes"]
    # a retried INVOKE is answered from the cache: same ticks, not run again
    again, _ = wire.unpack_invoke_reply(a.ask(wire.INVOKE, 11, wire.pack_invoke(3)))
    assert again == ticks
    # a request after a "lost" one is NAKed (expected 13, got 14); the expected one runs
    a.send(wire.GET_OUTPUT, 14, wire.pack_get_output(0, 0, out["bytes"]))
    t, s, body = a.recv()
    assert (t, s, wire.unpack_nak(body)[:3]) == (wire.NAK, 13, (wire.NAK_ORDER, Pipe.SESSION, 14))
    assert a.ask(wire.GET_OUTPUT, 13, wire.pack_get_output(0, 0, out["bytes"])) == first


def test_chunked_load_and_errors(agent):
    a, data = agent
    a.ask(wire.HELLO, 0)
    bad = hashlib.sha256(b"other").digest()
    assert a.ask(wire.LOAD_BEGIN, 1, wire.pack_load_begin(len(data), bad)) == b""
    for i, off in enumerate(range(0, len(data), 4096)):
        a.ask(wire.LOAD_CHUNK, (2 + i) % 256, wire.pack_offset_data(off, data[off:off + 4096]))
    seq = (2 + i + 1) % 256
    a.send(wire.LOAD_END, seq, wire.pack_load_end())
    t, s, body = a.recv()
    assert t == wire.ERROR and wire.unpack_error(body)[0] == wire.E_SHA_MISMATCH
    a.send(wire.SET_INPUT, seq + 1, wire.pack_set_input(0, 0, b"\0"))
    t, s, body = a.recv()
    assert t == wire.ERROR and wire.unpack_error(body)[0] == wire.E_NOT_LOADED


def test_missing_runtime_is_announced(tmp_path):
    a = Pipe(shipped_copy(tmp_path), "--runtime", "ai-edge-litert")
    try:
        import ai_edge_litert  # noqa: F401
        pytest.skip("ai-edge-litert is installed here")
    except ImportError:
        pass
    facts = wire.unpack_hello(a.recv()[2])
    assert "pip install --user" in facts["error"]
    again = wire.unpack_hello(a.ask(wire.HELLO, 0, wire.pack_hello_request(5)))
    assert again["nonce"] == 5 and "ai-edge-litert" in again["error"]
    a.close()
