"""The host's end of the board agent: one SSH exec channel carrying docs/protocol.md frames.

Each inference is one window of requests (SET_INPUT…, INVOKE 1, GET_OUTPUT…) and several
inferences share a transact(), so the link costs about one round trip per batch, not per frame.
"""

from __future__ import annotations

import hashlib
import socket
import time

import numpy as np

from ...errors import LinkError, TargetError, TargetTimeout
from ...protocol import wire
from ...protocol.link import Link
from ...protocol.requests import Req

DTYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8"}
INVOKE_EXTRA_S = 120.0  # an INVOKE may legitimately run this long before the host re-sends it
BATCH = 32  # inferences per transact(); a cut link loses at most this much work


class ChannelStream:
    """A paramiko channel as a Link stream: short blocking reads, EOF/closure as LinkError.

    Writes are gathered and go out as one SSH packet before the next read: a window of frames
    costs one packet instead of one each (paramiko spends most of its time per packet).
    """

    def __init__(self, chan, where: str) -> None:
        self.chan, self.where = chan, where
        self.pending = bytearray()
        self.stderr = b""  # the last 4 KB the agent wrote to stderr, for error messages
        chan.settimeout(0.05)

    def read(self, n: int) -> bytes:
        self.flush()
        if self.chan.recv_stderr_ready():
            self._drain_stderr()  # unread stderr would use up the channel's window and stall the frames
        try:
            data = self.chan.recv(n)
        except socket.timeout:
            return b""
        except Exception as e:  # paramiko raises OSError, EOFError or SSHException when the link dies
            raise LinkError(f"{self.where}: the SSH link broke ({type(e).__name__}: {e})") from None
        if not data:
            status = f" (agent exit status {self.chan.recv_exit_status()})" if self.chan.exit_status_ready() else ""
            raise LinkError(f"{self.where}: the agent's SSH channel closed{status}{self.stderr_tail()}")
        return data

    def write(self, data: bytes) -> None:
        self.pending += data

    def flush(self) -> None:
        if not self.pending:
            return
        data, self.pending = bytes(self.pending), bytearray()
        try:
            self.chan.sendall(data)
        except Exception as e:  # as in read()
            raise LinkError(f"{self.where}: the SSH link broke ({type(e).__name__}: {e})") from None

    def stderr_tail(self) -> str:
        """The agent's last stderr line (e.g. `python3: not found`), as ': …' or ''."""
        self._drain_stderr()
        lines = self.stderr.decode(errors="replace").strip().splitlines()
        return f": {lines[-1][:300]}" if lines else ""

    def _drain_stderr(self) -> None:
        try:
            while self.chan.recv_stderr_ready():
                self.stderr = (self.stderr + self.chan.recv_stderr(1 << 16))[-4096:]
        except Exception:  # the channel is already gone: no more to say
            pass

    def close(self) -> None:
        self.chan.close()


def _info_spec(info: dict) -> tuple[tuple[int, ...], str]:
    dims = tuple(int(v) for v in info["dims"])
    return dims, DTYPES.get(info["type"], "uint8")


def _exited(chan, wait: float = 2.0) -> bool:
    """Has the remote command ended? sshd sends the channel's EOF a moment before the exit status:
    after an EOF, wait up to `wait` s for it (else a command that never started reads as a cut link)."""
    end = time.monotonic() + (wait if chan.eof_received else 0.0)
    while not (chan.exit_status_ready() or chan.closed):
        if time.monotonic() >= end:
            return False
        time.sleep(0.01)
    return True


class AgentClient:
    """HELLO, cached loads, batched inferences and per-layer tensors over one Link."""

    def __init__(self, link: Link, stream: ChannelStream, where: str) -> None:
        self.link, self.stream, self.where = link, stream, where
        self.outputs: list[dict] = []
        self.inputs: list[dict] = []

    @classmethod
    def start(cls, client, command: str, where: str, hello_timeout: float, target: str = "…") -> "AgentClient":
        """Exec the agent once and read its HELLO; a failure to start is a TargetError, not a link cut."""
        try:
            chan = client.get_transport().open_session(timeout=hello_timeout)
            chan.exec_command(command)
        except Exception as e:  # paramiko: SSHException / EOFError / OSError on a dying transport
            raise LinkError(f"{where}: cannot start the agent ({type(e).__name__}: {e})") from None
        stream = ChannelStream(chan, where)
        agent = cls(Link(stream, where, frame_timeout=5.0, retries=3, window=64), stream, where)
        try:
            facts = agent.link.hello(hello_timeout)
        except (LinkError, TargetTimeout) as e:
            if _exited(chan):
                raise TargetError(f"{where}: the agent did not start ({command}){stream.stderr_tail()}") from None
            raise LinkError(str(e)) from None
        if facts.get("error"):
            agent.close()
            raise TargetError(f"{where}: {facts['error']} (or: harness doctor --target {target} --install-runtime)")
        agent.facts = facts
        return agent

    @property
    def retries(self) -> int:
        return self.link.retries

    def load(self, model: bytes) -> dict:
        """LOAD_BEGIN (the agent takes the bytes from its SFTP cache when it has them), else chunks."""
        sha = hashlib.sha256(model).digest()
        have = self.link.request(wire.LOAD_BEGIN, wire.pack_load_begin(len(model), sha))
        if have != b"\x01":
            step = max(256, self.link.max_body - 16)
            self.link.transact([Req(wire.LOAD_CHUNK, wire.pack_offset_data(o, model[o:o + step]))
                                for o in range(0, len(model), step)])
        return self._plan(0)

    def _plan(self, flags: int) -> dict:
        info = wire.unpack_load_end_reply(self.link.request(wire.LOAD_END, wire.pack_load_end(flags),
                                                            extra=INVOKE_EXTRA_S))
        self.inputs, self.outputs = info["inputs"], info["outputs"]
        return info

    def _inference(self, rows: list[bytes]) -> list[Req]:
        step = self.link.max_body - 16
        reqs = [Req(wire.SET_INPUT, wire.pack_set_input(i, o, data[o:o + step]))
                for i, data in enumerate(rows) for o in range(0, max(1, len(data)), step)]
        reqs.append(Req(wire.INVOKE, wire.pack_invoke(1), INVOKE_EXTRA_S))
        reqs += [Req(wire.GET_OUTPUT, wire.pack_get_output(j, o, min(step, d["bytes"] - o)))
                 for j, d in enumerate(self.outputs) for o in range(0, max(1, d["bytes"]), step)]
        return reqs

    def run_batch(self, rows: list[np.ndarray], start: int, stop: int, outs: list[np.ndarray],
                  ticks: np.ndarray) -> None:
        """Inferences start…stop-1 in one transact(); results land in outs[j][r] and ticks[r]."""
        per = [self._inference([x[r].tobytes() for x in rows]) for r in range(start, stop)]
        replies = self.link.transact([q for p in per for q in p])
        k = 0
        for r, p in zip(range(start, stop), per):
            mine, k = replies[k:k + len(p)], k + len(p)
            inv = [q.type for q in p].index(wire.INVOKE)
            ticks[r] = wire.unpack_invoke_reply(mine[inv])[0][0]
            data, pos = b"".join(mine[inv + 1:]), 0
            for j, d in enumerate(self.outputs):
                outs[j][r] = np.frombuffer(data[pos:pos + d["bytes"]], outs[j].dtype).reshape(outs[j].shape[1:])
                pos += d["bytes"]

    def tensors(self, rows: list[bytes]) -> dict[int, np.ndarray]:
        """Every tensor after one inference, from a preserve-all re-plan (then planned back)."""
        info = self._plan(wire.LOAD_PRESERVE_ALL)
        try:
            reqs = self._inference(rows)
            self.link.transact(reqs[:[q.type for q in reqs].index(wire.INVOKE) + 1])
            infos = self.link.transact([Req(wire.TENSOR_INFO, np.uint16(i).tobytes()) for i in range(info["tensors"])])
            out = {}
            for idx, body in enumerate(infos):
                t = wire.unpack_tensor_info_reply(body)
                if t["bytes"]:
                    data = self._tensor_bytes(idx, t["bytes"])
                    if data is not None:
                        dims, dtype = _info_spec(t)
                        out[idx] = np.frombuffer(data, dtype).reshape(dims)
            return out
        finally:
            self._plan(0)

    def _tensor_bytes(self, idx: int, nbytes: int) -> bytes | None:
        step = self.link.max_body - 16
        try:
            return b"".join(self.link.transact([Req(wire.GET_TENSOR, wire.pack_get_tensor(idx, o, step))
                                                for o in range(0, nbytes, step)]))
        except TargetError as e:
            if getattr(e, "code", None) == wire.E_BAD_INPUT:
                return None  # a tensor without data (e.g. an absent optional input)
            raise

    def close(self) -> None:
        try:
            self.stream.close()
        except Exception:  # closing a dead channel must not raise
            pass
