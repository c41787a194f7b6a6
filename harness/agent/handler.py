"""What the agent does for each request of docs/protocol.md, given decoded arguments.

Models arrive as LOAD chunks, or, on SSH, already in the board's sha256-keyed cache (pushed over
SFTP): a LOAD_BEGIN whose sha256 names a cached file fills every byte from it, and its reply
says so (one byte, 1), so the host goes straight to LOAD_END. The sha256 is always checked.
"""

from __future__ import annotations

import hashlib
import os
import struct
import uuid

from ..core.tflite import TYPE_CODES
from ..protocol import wire
from . import device


class AgentError(Exception):
    """A request failed; travels to the host as an ERROR frame (wire code, one-line text)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


def tensor_info(d: dict) -> bytes:
    """docs/protocol.md tensor info of one interpreter tensor detail."""
    import numpy as np

    dtype = np.dtype(d["dtype"])
    scale, zp = d.get("quantization", (0.0, 0))
    nbytes = dtype.itemsize * int(np.prod(d["shape"], dtype=np.int64))
    return wire.pack_tensor_info(TYPE_CODES.get(dtype.name, 255), [int(v) for v in d["shape"]], nbytes,
                                 float(scale), int(zp))


class Handler:
    """One agent process: the board's facts and at most one loaded model."""

    def __init__(self, runtime: str, kernels: str, threads: int, model_dir: str = "") -> None:
        self.runtime, self.kernels, self.threads, self.model_dir = runtime, kernels, threads, model_dir
        self.boot_id = uuid.uuid4().hex[:16]  # this agent process: a restart is a new boot for the host
        self.model = None
        self._data = b""  # the model's bytes, kept for re-planning with other LOAD_END flags
        self._pending = None  # [size, sha256 bytes, bytearray, received bytearray-of-flags]

    def hello(self, extra: dict) -> dict:
        try:
            f = device.facts(self.runtime, self.kernels, self.threads)
        except device.MissingRuntime as e:
            raise AgentError(wire.E_RUNTIME, str(e)) from None
        f.update(extra, version=wire.VERSION, boot_id=self.boot_id, timer="ns", pid=os.getpid())
        return f

    def load_begin(self, size: int, sha256: bytes) -> bytes:
        """Start a load; b'\\x01' when the cached file supplied every byte already."""
        self.model, self._data = None, b""
        self._pending = [size, sha256, bytearray(size), 0]
        cached = os.path.join(self.model_dir, sha256.hex() + ".tflite") if self.model_dir else ""
        if cached and os.path.isfile(cached) and os.path.getsize(cached) == size:
            with open(cached, "rb") as f:
                self._pending[2][:] = f.read()
            self._pending[3] = size
            return b"\x01"
        return b""

    def load_chunk(self, offset: int, data: bytes) -> bytes:
        if self._pending is None:
            raise AgentError(wire.E_BAD_STATE, "LOAD_CHUNK without LOAD_BEGIN")
        if offset + len(data) > self._pending[0]:
            raise AgentError(wire.E_BAD_REQUEST, f"LOAD_CHUNK {offset}+{len(data)} beyond the model's {self._pending[0]} bytes")
        self._pending[2][offset:offset + len(data)] = data
        self._pending[3] += len(data)  # repeats over-count: the sha256 still catches a gap
        return struct.pack("<II", offset, len(data))

    def load_end(self, flags: int) -> bytes:
        if self._pending is not None:
            size, sha, data, got = self._pending
            self._pending = None
            if got < size:
                raise AgentError(wire.E_INCOMPLETE, f"LOAD_END after {got} of {size} bytes")
            if hashlib.sha256(data).digest() != sha:
                raise AgentError(wire.E_SHA_MISMATCH, "model bytes do not hash to the announced sha256")
            self._data = bytes(data)
        if not self._data:
            raise AgentError(wire.E_BAD_STATE, "LOAD_END without LOAD_BEGIN")
        try:
            self.model = device.Model(self._data, self.runtime, self.kernels, self.threads,
                                      preserve=bool(flags & wire.LOAD_PRESERVE_ALL))
        except device.MissingRuntime as e:
            raise AgentError(wire.E_RUNTIME, str(e)) from None
        except (ValueError, RuntimeError) as e:
            lines = str(e).strip().splitlines() or [type(e).__name__]
            why = lines[-1][:300] if len(lines) < 2 else f"{lines[0][:240]} ({lines[-1][:60]})"  # first: the op
            raise AgentError(wire.E_UNSUPPORTED, f"{self.runtime} ({self.kernels} kernels) cannot load the model: "
                                                 f"{why}") from None
        m = self.model
        ntensors = max(m.details_by_index, default=-1) + 1  # indices may skip tensors the runtime hides
        head = struct.pack("<BBHHII", len(m.inputs), len(m.outputs), len(m.ops), ntensors, 0, 0)
        return head + b"".join(tensor_info(d) for d in m.inputs + m.outputs)

    def _need_model(self):
        if self.model is None:
            raise AgentError(wire.E_NOT_LOADED, "no model loaded")
        return self.model

    def set_input(self, idx: int, offset: int, data: bytes) -> None:
        m = self._need_model()
        if not 0 <= idx < len(m.inputs):
            raise AgentError(wire.E_BAD_INPUT, f"input {idx} does not exist ({len(m.inputs)} inputs)")
        try:
            m.set_input(idx, offset, data)
        except ValueError as e:
            raise AgentError(wire.E_BAD_INPUT, f"input {idx}: {e}") from None

    def invoke(self, count: int) -> list:
        m = self._need_model()
        try:
            return [min(t, 0xFFFFFFFF) for t in m.invoke(max(1, count))]
        except RuntimeError as e:
            raise AgentError(wire.E_RUNTIME, f"invoke failed: {str(e).strip()[:300]}") from None

    def output(self, idx: int, offset: int, length: int) -> bytes:
        m = self._need_model()
        if not 0 <= idx < len(m.outputs):
            raise AgentError(wire.E_BAD_INPUT, f"output {idx} does not exist ({len(m.outputs)} outputs)")
        return m.tensor_bytes(m.outputs[idx]["index"])[offset:offset + length]

    def tensor(self, idx: int, offset: int, length: int) -> bytes:
        m = self._need_model()
        if not m.preserve:
            raise AgentError(wire.E_BAD_INPUT, f"tensor {idx}: memory reused; LOAD_END with preserve-all first")
        try:
            return m.tensor_bytes(idx)[offset:offset + length]
        except ValueError as e:  # no data (e.g. an optional input) or no such tensor
            raise AgentError(wire.E_BAD_INPUT, f"tensor {idx}: {str(e).strip()[:200]}") from None

    def tensor_info(self, idx: int) -> bytes:
        m = self._need_model()
        d = m.details_by_index.get(idx)
        if d is None:  # a tensor the runtime does not expose: no data to read, not an error
            return wire.pack_tensor_info(255, [], 0, 0.0, 0) + struct.pack("<hB", -1, 0)
        producer, op = m.producers.get(idx, (-1, ""))
        name = op.encode()[:255]
        return tensor_info(d) + struct.pack("<hB", producer, len(name)) + name
