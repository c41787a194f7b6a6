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

from ..core.schema import load_dataclass, opt
from ..errors import LinkError, ModelError, TargetError, TargetTimeout, UnsupportedModel
from ..protocol.client import TargetClient
from ..protocol.link import Link, NotLoaded
from ..protocol.requests import TargetRebooted
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


@register("mcu")
class McuDriver(Driver):
    """One board on a serial URL; see the module docstring."""

    options_class = McuOptions

    def __init__(self, target) -> None:
        super().__init__(target)
        self.opts = load_dataclass(self.options_class, target.options, f"{target.path or target.name}: options")
        self.client: TargetClient | None = None
        self._ser = None
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

    @property
    def link(self) -> Link | None:
        return self.client.link if self.client else None

    def open(self) -> TargetInfo:
        if not self.url():
            raise LinkError(f"target {self.target.name}: options.url is empty; give a pyserial URL such as "
                            f"/dev/ttyACM0 or socket://host:port")
        o = self.opts
        link = Link(self._connect(), self.url(), o.frame_timeout, o.retries, o.window)
        self.client = TargetClient(link, o.chunk, o.profile, o.invoke_timeout)
        self.client.sent = self._sent
        self.client.inferred = self._inferred
        facts = self.client.hello(o.hello_timeout)
        self.hello_facts = facts
        clock = o.clock_hz or int(facts.get("clock_hz", 0)) or None
        return TargetInfo(name=self.target.name, kind=self.kind, board=str(facts.get("board", "")),
                          cpu=str(facts.get("cpu", "")), time_unit=self.time_unit(facts), clock_hz=clock,
                          boot_id=link.boot_id, facts={**facts, "url": self.url(), "tick_scale": self.tick_scale()})

    def close(self) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            finally:
                self._ser = None
        self.client = None

    # ---- model ----
    def load(self, model: bytes, name: str) -> LoadInfo:
        cap = int(self.client.facts.get("max_model_bytes", 0))
        if cap and len(model) > cap:
            raise UnsupportedModel(f"{name}: the model is {len(model)} bytes; target {self.target.name} holds at most "
                                   f"{cap} bytes (max_model_bytes); needs {len(model) - cap} bytes more")
        t0 = time.perf_counter()
        self.watcher.phase("upload")
        try:
            try:
                up = self.client.load(model)
            except (TargetRebooted, NotLoaded) as e:  # rebooted mid-upload: once more from HELLO
                self._recover(e)
                up = self.client.reload()
        except (ModelError, TargetError) as e:
            self.client.model = b""
            if isinstance(e, (LinkError, TargetTimeout)):
                raise
            raise type(e)(f"{name}: {e}") from None
        info = self.client.plan
        return LoadInfo(hashlib.sha256(model).hexdigest(), time.perf_counter() - t0,
                        self.client.specs("inputs"), self.client.specs("outputs"),
                        facts={"upload_s": up, "upload_bytes": len(model), "arena_used": info["arena_used"],
                               "arena_bytes": info["arena_bytes"], "ops": info["ops"], "tensors": info["tensors"]})

    def _sent(self, done: int, total: int) -> None:
        """Upload progress for the watcher; planning follows the last chunk."""
        self.watcher.uploaded(done, total)
        if done == total:
            self.watcher.phase("plan")

    def memory(self) -> dict[str, int]:
        """The arena the firmware's planner used for the model (LOAD_END reply) and its capacity."""
        plan = self.client.plan if self.client else {}
        return {k: int(plan[src]) for k, src in (("arena_used_bytes", "arena_used"), ("arena_bytes", "arena_bytes"))
                if isinstance(plan.get(src), int)}

    def _recover(self, why: Exception) -> None:
        """After a reboot: HELLO, reload the model as it was."""
        for _ in range(MAX_REBOOTS):
            self.reboots += 1
            try:
                self.client.hello(self.opts.hello_timeout)
                if self.client.model:
                    self.client.reload()
                return
            except (TargetRebooted, NotLoaded):
                continue
        raise TargetError(f"target {self.target.name}: keeps rebooting while the model is reloaded ({why})")

    # ---- inferences ----
    def run(self, inputs: Sequence[np.ndarray]) -> RunResult:
        if not (self.client and self.client.model):
            raise TargetError(f"target {self.target.name}: run() before load()")
        rows = self.client.check_inputs(inputs, f"target {self.target.name}")
        n = len(rows[0])
        outs = self.client.output_arrays(n)
        ticks = np.zeros(n, np.int64)
        op_ticks = np.zeros((n, self.client.plan["ops"]), np.int64) if self.opts.profile else None
        retries0, reboots0, done = self.client.retries, self.reboots, 0
        while done < n:
            stop = min(n, done + self.opts.batch)
            try:
                got = self.client.run_batch(rows, done, stop, outs, ticks, op_ticks)
            except (TargetRebooted, NotLoaded) as e:
                got = e.done
                if self.reboots - reboots0 >= MAX_REBOOTS:
                    raise TargetError(f"target {self.target.name}: rebooted {MAX_REBOOTS} times in one run; "
                                      f"last: {e}") from None
                self._recover(e)
            done += got
        scale = self.tick_scale()
        if scale != 1.0:
            ticks = np.rint(ticks * scale).astype(np.int64)
            op_ticks = None if op_ticks is None else np.rint(op_ticks * scale).astype(np.int64)
        return RunResult(outs, ticks, self.client.retries - retries0, op_ticks)

    def tensors(self, inputs: Sequence[np.ndarray]) -> dict[int, np.ndarray]:
        """Every op's output tensor for one sample: re-plan with preserve_all, run, read back."""
        return self.client.tensors(inputs, self._op_outputs())

    def _op_outputs(self) -> list[int]:
        """Tensor index of each op's first output, from the model (the host reads the flatbuffer)."""
        from ..core.model import op_tensors

        model = self.client.model
        if getattr(self, "_op_outputs_of", (None,))[0] != model:
            self._op_outputs_of = (model, [o.tensor for o in op_tensors(model, "model")])
        return self._op_outputs_of[1]
