"""ONE client of the wire protocol (docs/protocol.md) for every board: a Cortex-M board or QEMU on a
serial URL and the Linux board agent on an SSH channel speak the same frames, so they share this.

A driver opens the stream, wraps it in a Link and recovers it (reconnect, reboot); everything said
over it is here: upload and plan, batched inferences, per-layer tensors, raw link rates. Requests
carry whole tensors; the Link's window splits them to the chunk the link allows (Link.step) and
joins the replies, so there is one chunk rule. The client keeps the loaded model and its plan
flags, so reload() after a reboot or reconnect plans it exactly as it was.
"""

from __future__ import annotations

import bisect
import hashlib
import struct
import time
from typing import Callable, Iterator, Sequence

import numpy as np

from ..core.tensors import TensorSpec, sample_shape
from ..core.tflite import TENSOR_TYPES
from ..errors import InputError, LinkError, TargetError
from . import wire
from .link import Link
from .requests import Req

PLAN_EXTRA_S = 30.0  # LOAD_END hashes and plans the model: seconds allowed beyond a frame timeout
CACHED = b"\x01"  # LOAD_BEGIN reply of a target that already holds these bytes (the SSH agent's cache)


def dtype(info: dict) -> str:
    """numpy dtype name of a tensor info (docs/protocol.md); uint8 (bytes) for types numpy lacks."""
    name = TENSOR_TYPES.get(info["type"], "uint8")
    return "uint8" if name in ("string", "complex64") else name


def spec(i: int, info: dict) -> TensorSpec:
    """A tensor info as the TensorSpec every layer above uses."""
    return TensorSpec(str(i), tuple(info["dims"]), dtype(info), info["scale"], info["zero_point"])


class TargetClient:
    """hello / load / run_batch / tensors / raw rates over one Link."""

    def __init__(self, link: Link, chunk: int = 0, profile: bool = False, invoke_timeout: float = 120.0) -> None:
        self.link = link
        self.chunk = chunk  # LOAD_CHUNK data bytes at most (0: as the link allows)
        self.profile = profile  # per-op ticks with every inference
        self.invoke_timeout = invoke_timeout  # seconds the first INVOKE may take beyond a frame timeout
        self.plan: dict = {}  # the LOAD_END reply: inputs, outputs, ops, tensors, arena
        self.model = b""
        self.preserve = False  # the model is planned with every tensor kept (tensors())
        self.arena_limit = 0
        self.sent: Callable[[int, int], None] | None = None  # hears (bytes sent, total) while uploading
        self.inferred: Callable[[int], None] | None = None  # hears n more inferences finished, as they finish

    @property
    def facts(self) -> dict:
        return self.link.facts

    @property
    def retries(self) -> int:
        return self.link.retries

    def hello(self, timeout: float) -> dict:
        """A new session; the target's facts."""
        return self.link.hello(timeout)

    # ---- the model ----
    def load(self, model: bytes, arena_limit: int = 0) -> float:
        """Upload and plan `model`; the upload's seconds. The plan is in self.plan."""
        self.model, self.preserve, self.arena_limit = model, False, arena_limit
        return self.reload()

    def reload(self) -> float:
        """The loaded model again, planned as it was (after a reboot or a reconnect)."""
        up = self.upload(self.model)
        self.replan(self.preserve)
        return up

    def upload(self, data: bytes) -> float:
        """LOAD_BEGIN, then the LOAD_CHUNKs unless the target has these bytes already; seconds."""
        t0 = time.perf_counter()
        have = self.link.request(wire.LOAD_BEGIN, wire.pack_load_begin(len(data), hashlib.sha256(data).digest()))
        if have != CACHED:
            self.link.transact(self._chunks(data))
        if self.sent is not None:
            self.sent(len(data), len(data))
        return time.perf_counter() - t0

    def _chunks(self, data: bytes) -> Iterator[Req]:
        """LOAD_CHUNKs, taken by the window as it has room: `sent` follows the link, not the list."""
        step = self.chunk or len(data) or 1
        for o in range(0, len(data), step):
            if self.sent is not None:
                self.sent(o, len(data))
            yield Req(wire.LOAD_CHUNK, wire.pack_offset_data(o, data[o:o + step]), data_at=4)

    def replan(self, preserve: bool = False, arena_limit: int | None = None) -> dict:
        """LOAD_END: check and plan the uploaded model (every tensor kept if `preserve`; an arena of
        at most `arena_limit` bytes, 0: all the target has)."""
        self.arena_limit = self.arena_limit if arena_limit is None else arena_limit
        body = wire.pack_load_end(wire.LOAD_PRESERVE_ALL if preserve else 0, self.arena_limit)
        self.plan = wire.unpack_load_end_reply(self.link.request(wire.LOAD_END, body, PLAN_EXTRA_S))
        self.preserve = preserve
        return self.plan

    def specs(self, which: str) -> tuple[TensorSpec, ...]:
        """The planned model's "inputs" or "outputs" as TensorSpecs."""
        return tuple(spec(i, d) for i, d in enumerate(self.plan[which]))

    # ---- inferences ----
    def check_inputs(self, inputs: Sequence[np.ndarray], where: str) -> list[np.ndarray]:
        """[n, …] arrays, one per model input, in the model's dtypes; InputError when they do not fit."""
        infos = self.plan["inputs"]
        if len(inputs) != len(infos):
            raise InputError(f"{where}: {len(inputs)} input arrays for a model with {len(infos)} inputs")
        rows = []
        for i, (x, d) in enumerate(zip(inputs, infos)):
            x = np.ascontiguousarray(x, dtype=dtype(d))
            if x.ndim == 0 or x[0].nbytes != d["bytes"]:
                raise InputError(f"input {i}: rows of shape {x.shape[1:]} do not fill the model's {d['dims']}")
            rows.append(x)
        return rows

    def output_arrays(self, n: int) -> list[np.ndarray]:
        """Empty [n, *sample shape] arrays for the outputs of n inferences."""
        return [np.empty((n, *sample_shape(d["dims"])), dtype(d)) for d in self.plan["outputs"]]

    def run_batch(self, rows: Sequence[np.ndarray], start: int, stop: int, outs: list[np.ndarray],
                  ticks: np.ndarray, op_ticks: np.ndarray | None = None) -> int:
        """Inferences start…stop-1 in one window; their outputs land in outs[j][r], ticks[r] (and
        op_ticks[r]); how many finished. When the link fails mid-way, the inferences finished
        before it are stored all the same and the error's `done` says how many."""
        reqs, ends = self._requests(rows, start, stop)
        try:
            replies = self.link.transact(reqs, self._counter(ends))
        except (LinkError, TargetError) as e:
            e.done = self._store(reqs, ends, getattr(e, "replies", []), start, outs, ticks, op_ticks)
            raise
        return self._store(reqs, ends, replies, start, outs, ticks, op_ticks)

    def _counter(self, ends: list[int]) -> Callable[[int], None] | None:
        """For transact(): answered requests → inferences finished, told to `inferred` one by one."""
        if self.inferred is None:
            return None
        told = [0]

        def answered(n: int) -> None:
            done = bisect.bisect_right(ends, n)
            if done > told[0]:
                self.inferred(done - told[0])
                told[0] = done
        return answered

    def _requests(self, rows, start: int, stop: int) -> tuple[list[Req], list[int]]:
        """SET_INPUTs, INVOKE 1, GET_OUTPUTs per inference; ends[j]: index after inference j's last."""
        seen = self.link.slowest.get(wire.INVOKE)
        extra = self.invoke_timeout if seen is None else 4.0 * seen + 1.0
        body = wire.pack_invoke(1, wire.INVOKE_PROFILE if self.profile else 0)
        reqs, ends = [], []
        for r in range(start, stop):
            reqs += [Req(wire.SET_INPUT, wire.pack_set_input(i, 0, x[r].tobytes()), data_at=5)
                     for i, x in enumerate(rows)]
            reqs.append(Req(wire.INVOKE, body, extra))
            reqs += [Req(wire.GET_OUTPUT, wire.pack_get_output(j, 0, d["bytes"]), reads=True)
                     for j, d in enumerate(self.plan["outputs"])]
            ends.append(len(reqs))
        return reqs, ends

    def _store(self, reqs, ends, replies, start, outs, ticks, op_ticks) -> int:
        """Unpack the complete inferences among `replies`; how many there were."""
        pos = 0
        for j, end in enumerate(ends):
            if end > len(replies):
                return j
            inv = pos + [q.type for q in reqs[pos:end]].index(wire.INVOKE)
            t, per_op = wire.unpack_invoke_reply(replies[inv])
            ticks[start + j] = t[0]
            if op_ticks is not None:
                op_ticks[start + j] = per_op
            for o, data in zip(outs, replies[inv + 1:end]):
                o[start + j] = np.frombuffer(data, o.dtype).reshape(o.shape[1:])
            pos = end
        return len(ends)

    # ---- per-layer tensors ----
    def tensors(self, sample: Sequence[np.ndarray], indices: Sequence[int] | None = None) -> dict[int, np.ndarray]:
        """Tensors after one inference of `sample` (one row per input): those of `indices`, or every
        one with data; from a preserve-all plan, planned back after."""
        self.replan(True)
        try:
            rows = self.check_inputs([np.asarray(x)[None] for x in sample], "tensors")
            self.link.transact(self._requests(rows, 0, 1)[0])
            indices = range(self.plan["tensors"]) if indices is None else indices
            out = {}
            for idx, body in zip(indices, self.link.transact(Req(wire.TENSOR_INFO, struct.pack("<H", i))
                                                             for i in indices)):
                info = wire.unpack_tensor_info_reply(body)
                data = self.tensor_bytes(idx, info["bytes"]) if info["bytes"] else None
                if data is not None:
                    out[idx] = np.frombuffer(data, dtype(info)).reshape(info["dims"])
            return out
        finally:
            self.replan(False)

    def tensor_bytes(self, idx: int, nbytes: int) -> bytes | None:
        """Tensor idx's bytes (preserve-all plan); None for a tensor without data (an absent optional input)."""
        try:
            return self.link.transact([Req(wire.GET_TENSOR, wire.pack_get_tensor(idx, 0, nbytes), reads=True)])[0]
        except TargetError as e:
            if getattr(e, "code", None) == wire.E_BAD_INPUT:
                return None
            raise

    def reset(self) -> None:
        self.link.request(wire.RESET)

    # ---- raw link rates (bench/perf_link.py) ----
    def raw_sink(self, count: int) -> float:
        """Seconds for `count` raw bytes host → target (SINK), reply included."""
        return self.link.raw(wire.SINK, struct.pack("<I", count), b"\x55" * count)

    def raw_source(self, count: int) -> float:
        """Seconds for `count` raw bytes target → host (SOURCE), reply included."""
        return self.link.raw(wire.SOURCE, struct.pack("<I", count))
