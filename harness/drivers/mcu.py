"""Cortex-M boards over any pyserial URL (/dev/ttyACM0, socket://, rfc2217://, loop://).

open() waits for HELLO; load() uploads in LOAD_CHUNKs and plans; run() pipelines
SET_INPUT / INVOKE / GET_OUTPUT for a few samples per window. Ticks are measured on the
device around invoke() only. A reboot mid-run (new boot id, boot HELLO, or NOT_LOADED) is
healed: HELLO, reload, resume at the first inference whose outputs had not arrived.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..core.config import load_dataclass, opt
from ..core.tensors import TensorSpec
from ..errors import InputError, LinkError, ModelError, TargetError, TargetTimeout, UnsupportedModel
from ..protocol import client as ops, wire
from ..protocol.link import Link, NotLoaded
from ..protocol.requests import Req, TargetRebooted
from ..protocol.streams import SerialStream, open_url
from . import register
from .base import Driver, LoadInfo, RunResult, TargetInfo

MAX_REBOOTS = 5  # per run(): more means the board is crashing, not glitching


@dataclass(frozen=True)
class McuOptions:
    """targets/<board>.yaml `options:` for kind mcu (qemu adds its own on top); ranges are checked on load."""

    url: str = ""
    baud: int = opt(115200, min=1, max=100_000_000)
    hello_timeout: float = opt(10.0, above=0, max=3600)
    frame_timeout: float = opt(0.5, above=0, max=600, hint="seconds without progress before a re-send")
    retries: int = opt(10, min=0, max=10_000, hint="consecutive fruitless re-sends before a timeout")
    window: int = opt(8, min=1, max=64, hint="requests in flight, capped by the target's HELLO")
    chunk: int = opt(2048, min=1, max=1 << 20, hint="LOAD_CHUNK data bytes, capped by max_body")
    batch: int = opt(8, min=1, max=10_000, hint="inferences pipelined per window")
    invoke_timeout: float = opt(120.0, above=0, max=86_400, hint="seconds allowed for the first inference")
    profile: bool = True  # per-op ticks with every inference
    clock_hz: int = opt(0, min=0, max=10**10, hint="Hz; 0: the clock the board announces in HELLO")


def _spec(i: int, d: dict) -> TensorSpec:
    return TensorSpec(str(i), tuple(d["dims"]), ops.DTYPES.get(d["type"], "uint8"), d["scale"], d["zero_point"])


def _row(shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(shape)
    return shape[1:] if shape and shape[0] == 1 else shape


@register("mcu")
class McuDriver(Driver):
    """One board on a serial URL; see the module docstring."""

    options_class = McuOptions

    def __init__(self, target) -> None:
        super().__init__(target)
        self.opts = load_dataclass(self.options_class, target.options, f"{target.path or target.name}: options")
        self.link: Link | None = None
        self._ser = None
        self._model: tuple[bytes, str, bool] | None = None
        self._plan: dict = {}
        self.reboots = 0

    # ---- connection ----
    def url(self) -> str:
        return self.opts.url

    def _connect(self):
        """A stream to the target (fake.py replaces this)."""
        self._ser = open_url(self.url(), self.opts.baud, f"target {self.target.name}")
        return SerialStream(self._ser, self.url())

    def time_unit(self, facts: dict) -> str:
        return {"dwt": "cycles", "systick": "cycles", "ns": "ns"}.get(facts.get("timer", ""), "cycles")

    def tick_scale(self) -> float:
        """Device ticks → reported unit (1 on hardware; qemu converts to instructions)."""
        return 1.0

    def open(self) -> TargetInfo:
        if not self.url():
            raise LinkError(f"target {self.target.name}: options.url is empty; give a pyserial URL such as "
                            f"/dev/ttyACM0 or socket://host:port")
        o = self.opts
        self.link = Link(self._connect(), self.url(), o.frame_timeout, o.retries, o.window)
        facts = self.link.hello(o.hello_timeout)
        self.hello_facts = facts
        clock = o.clock_hz or int(facts.get("clock_hz", 0)) or None
        return TargetInfo(name=self.target.name, kind=self.kind, board=str(facts.get("board", "")),
                          cpu=str(facts.get("cpu", "")), time_unit=self.time_unit(facts), clock_hz=clock,
                          boot_id=self.link.boot_id, facts={**facts, "url": self.url(), "tick_scale": self.tick_scale()})

    def close(self) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            finally:
                self._ser = None
        self.link = None

    # ---- model ----
    def load(self, model: bytes, name: str) -> LoadInfo:
        cap = int(self.link.facts.get("max_model_bytes", 0))
        if cap and len(model) > cap:
            raise UnsupportedModel(f"{name}: the model is {len(model)} bytes; target {self.target.name} holds at most "
                                   f"{cap} bytes (max_model_bytes); needs {len(model) - cap} bytes more")
        t0 = time.perf_counter()
        self._model = (model, name, False)
        try:
            try:
                up = self._push()
            except (TargetRebooted, NotLoaded) as e:  # rebooted mid-upload: once more from HELLO
                self._recover(e)
                up = self._push()
        except (ModelError, TargetError) as e:
            self._model = None
            if isinstance(e, (LinkError, TargetTimeout)):
                raise
            raise type(e)(f"{name}: {e}") from None
        info = self._plan
        return LoadInfo(hashlib.sha256(model).hexdigest(), time.perf_counter() - t0,
                        tuple(_spec(i, d) for i, d in enumerate(info["inputs"])),
                        tuple(_spec(i, d) for i, d in enumerate(info["outputs"])),
                        facts={"upload_s": up, "upload_bytes": len(model), "arena_used": info["arena_used"],
                               "arena_bytes": info["arena_bytes"], "ops": info["ops"], "tensors": info["tensors"]})

    def _push(self, arena_limit: int = 0) -> float:
        model, _, preserve = self._model
        self.watcher.phase("upload")
        up = ops.upload(self.link, model, self.opts.chunk, lambda done: self.watcher.uploaded(done, len(model)))
        self.watcher.phase("plan")
        self._plan = ops.load_end(self.link, preserve, arena_limit)
        return up

    def _recover(self, why: Exception) -> None:
        """After a reboot: HELLO, reload the model as it was."""
        for _ in range(MAX_REBOOTS):
            self.reboots += 1
            try:
                self.link.hello(self.opts.hello_timeout)
                if self._model:
                    self._push()
                return
            except (TargetRebooted, NotLoaded):
                continue
        raise TargetError(f"target {self.target.name}: keeps rebooting while the model is reloaded ({why})")

    def memory(self) -> dict[str, int]:
        """The arena the firmware's planner used for the model (LOAD_END reply) and its capacity."""
        plan = getattr(self, "_plan", None) or {}
        return {k: int(plan[src]) for k, src in (("arena_used_bytes", "arena_used"), ("arena_bytes", "arena_bytes"))
                if isinstance(plan.get(src), int)}

    # ---- inferences ----
    def run(self, inputs: Sequence[np.ndarray]) -> RunResult:
        if not self._model:
            raise TargetError(f"target {self.target.name}: run() before load()")
        rows = self._check_inputs(inputs)
        n = len(rows[0])
        outs = [np.empty((n, *_row(d["dims"])), ops.DTYPES[d["type"]]) for d in self._plan["outputs"]]
        ticks = np.zeros(n, np.int64)
        op_ticks = np.zeros((n, self._plan["ops"]), np.int64) if self.opts.profile else None
        retries0, reboots0, done = self.link.retries, self.reboots, 0
        while done < n:
            k = min(self.opts.batch, n - done)
            try:
                got = self._batch(rows, done, k, outs, ticks, op_ticks)
            except (TargetRebooted, NotLoaded) as e:
                got = self._partial(e, rows, done, k, outs, ticks, op_ticks)
                if self.reboots - reboots0 >= MAX_REBOOTS:
                    raise TargetError(f"target {self.target.name}: rebooted {MAX_REBOOTS} times in one run; "
                                      f"last: {e}") from None
                self._recover(e)
            done += got
            self.watcher.inferences(got)
        scale = self.tick_scale()
        if scale != 1.0:
            ticks = np.rint(ticks * scale).astype(np.int64)
            op_ticks = None if op_ticks is None else np.rint(op_ticks * scale).astype(np.int64)
        return RunResult(outs, ticks, self.link.retries - retries0, op_ticks)

    def _check_inputs(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        specs = self._plan["inputs"]
        if len(inputs) != len(specs):
            raise InputError(f"target {self.target.name}: {len(inputs)} input arrays for a model with {len(specs)} inputs")
        rows = []
        for i, (x, d) in enumerate(zip(inputs, specs)):
            x = np.ascontiguousarray(x, dtype=ops.DTYPES[d["type"]])
            if x.ndim == 0 or x[0].nbytes != d["bytes"]:
                raise InputError(f"input {i}: rows of shape {x.shape[1:]} do not fill the model's {d['dims']}")
            rows.append(x)
        return rows

    def _requests(self, rows, start: int, k: int) -> tuple[list[Req], list[int]]:
        """Requests for k samples from `start`; ends[j] = index after sample j's last request."""
        extra = self._invoke_extra()
        reqs, ends = [], []
        for s in range(start, start + k):
            for i, x in enumerate(rows):
                reqs += ops.set_input_reqs(self.link, i, x[s].tobytes())
            reqs.append(ops.invoke_req(1, self.opts.profile, extra))
            for j, d in enumerate(self._plan["outputs"]):
                reqs += ops.get_output_reqs(self.link, j, d["bytes"])
            ends.append(len(reqs))
        return reqs, ends

    def _invoke_extra(self) -> float:
        seen = self.link.slowest.get(wire.INVOKE)
        return self.opts.invoke_timeout if seen is None else 4.0 * seen + 1.0

    def _batch(self, rows, start, k, outs, ticks, op_ticks) -> int:
        reqs, ends = self._requests(rows, start, k)
        return self._store(reqs, ends, self.link.transact(reqs), start, outs, ticks, op_ticks)

    def _partial(self, e, rows, start, k, outs, ticks, op_ticks) -> int:
        replies = getattr(e, "replies", [])
        if not replies:
            return 0
        reqs, ends = self._requests(rows, start, k)
        return self._store(reqs, ends, replies, start, outs, ticks, op_ticks)

    def _store(self, reqs, ends, replies, start, outs, ticks, op_ticks) -> int:
        """Unpack the complete samples among `replies`; how many there were."""
        pos = 0
        for j, end in enumerate(ends):
            if end > len(replies):
                return j
            parts = {}
            for q in range(pos, end):
                parts.setdefault(reqs[q].type, []).append(replies[q])
            t, per_op = wire.unpack_invoke_reply(parts[wire.INVOKE][0])
            ticks[start + j] = t[0]
            if op_ticks is not None:
                op_ticks[start + j] = per_op
            data = b"".join(parts[wire.GET_OUTPUT])
            off = 0
            for o in outs:
                nb = o[0].nbytes
                o[start + j] = np.frombuffer(data[off:off + nb], o.dtype).reshape(o.shape[1:])
                off += nb
            pos = end
        return len(ends)

    def tensors(self, inputs: Sequence[np.ndarray]) -> dict[int, np.ndarray]:
        """Every op's output tensor for one sample: re-plan with preserve_all, run, read back."""
        model, name, _ = self._model
        self._model = (model, name, True)
        self._plan = ops.load_end(self.link, True)
        try:
            rows = self._check_inputs([np.asarray(x)[None] for x in inputs])
            reqs, _ = self._requests(rows, 0, 1)
            self.link.transact(reqs)
            out = {}
            for op in range(self._plan["ops"]):
                out.update(self._op_tensor(op))
            return out
        finally:
            self._model = (model, name, False)
            self._plan = ops.load_end(self.link, False)

    def _op_tensor(self, op: int) -> dict[int, np.ndarray]:
        idx = self._op_output(op)
        info = ops.tensor_info(self.link, idx)
        dtype = ops.DTYPES.get(info["type"], "uint8")
        raw = ops.get_tensor(self.link, idx, info["bytes"])
        return {idx: np.frombuffer(raw, dtype).reshape(info["dims"])}

    def _op_output(self, op: int) -> int:
        if not hasattr(self, "_op_outputs") or self._op_outputs[0] != self._model[0]:
            self._op_outputs = (self._model[0], _op_outputs(self._model[0]))
        return self._op_outputs[1][op]


def _op_outputs(model: bytes) -> list[int]:
    """Tensor index of each op's first output, from the model (the host reads the flatbuffer)."""
    from ..core.model import op_tensors

    return [o.tensor for o in op_tensors(model, "model")]
