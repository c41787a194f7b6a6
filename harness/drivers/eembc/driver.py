"""Firmware we did not write: a board running an MLPerf Tiny (EEMBC) benchmark image, over any
pyserial URL (docs/eembc.md).

open() asks `name` and `profile` (which model the image holds); load() checks that the .tflite
the user gives fits that model — it is never uploaded, it gives the host references and the
output scale; run() sends each sample with `db load N` / `db <hex>` and times it with
`infer 1 0` (the runner's accuracy mode), reading the printed results back to int8 values.
figures() runs the runner's performance mode (eembc_perf.py). A device that resets mid-run
(its boot banner appears) is re-synchronised and the sample repeated; any other malformed or
missing line is a one-line error.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ...core.schema import load_dataclass, opt
from ...errors import ConfigError, InputError, TargetError, UnsupportedModel
from ...protocol.streams import SerialStream, open_url
from .. import register
from ..base import Driver, LoadInfo, RunResult, TargetInfo
from . import values as ev
from .client import CMD_MAX, DeviceReset, EembcClient, InferReply, parse_infer, parse_name, parse_profile


@dataclass(frozen=True)
class EembcOptions:
    """targets/<board>.yaml `options:` for kind eembc."""

    url: str = ""
    baud: int = opt(115200, min=1, max=100_000_000, hint="the runner's rate; energy mode's 9600 is not supported")
    command_timeout: float = opt(5.0, above=0, max=3600, hint="seconds for a reply (the runner's), `infer` excepted")
    infer_timeout: float = opt(60.0, above=0, max=86_400, hint="the first `infer` reply; later 4 x the slowest "
                               "per inference + command_timeout")
    boot_timeout: float = opt(10.0, above=0, max=3600, hint="a boot banner after a reset (and at open with expect_boot)")
    expect_boot: bool = False  # the device boots when we connect (QEMU): read its banner first
    db_bytes: int = opt(31, min=1, max=(CMD_MAX - 3) // 2, hint="bytes per `db <hex>` command: `db ` and two hex "
                        f"digits per byte in {CMD_MAX} characters; the runner's 31")
    input_encoding: str = "auto"  # auto (by model id) | int8 | uint8 | float32
    results: str = opt("auto", choices=("auto", "float", "int8"), hint="how m-results values are read")
    rounding: str = "auto"  # how the firmware cut its decimals: auto | truncate | round
    model_id: str = ""  # the m-model-[…] expected (empty: whatever the device says)
    strict: bool = True  # a line the protocol does not have is an error
    max_resets: int = opt(5, min=0, max=1000, hint="device resets healed per run() before giving up")
    perf_windows: int = opt(5, min=0, max=1000, hint="performance windows (0: no performance mode)")
    perf_window_s: float = opt(10.0, above=0, max=86_400, hint="at least this much device time per window")
    perf_counts: tuple[int, ...] = ()  # (N, W) instead of the runner's counts for the model


@register("eembc")
class EembcDriver(Driver):
    """See the module docstring."""

    options_class = EembcOptions

    def __init__(self, target) -> None:
        super().__init__(target)
        self.opts = load_dataclass(self.options_class, target.options, f"{target.path or target.name}: options")
        self._check_options()
        self.client: EembcClient | None = None
        self.device: dict = {}  # name, profile, model id
        self.resets = 0  # over the driver's life
        self._resets_before = 0  # resets when the current run() / figures() began
        self.slowest_infer = 0.0  # host seconds of the slowest `infer` reply so far
        self._spec = None
        self._outs = None
        self.printed: dict[bytes, tuple[str, ...]] = {}  # input bytes → values printed for them
        self.single_us: list[int] = []  # device µs of each `infer 1 0` of run()

    def _check_options(self) -> None:
        o, where = self.opts, f"{self.target.path or self.target.name}: options"  # ranges: opt() above
        if len(o.perf_counts) not in (0, 2) or any(c < 0 for c in o.perf_counts):
            raise ConfigError(f"{where}.perf_counts: give [N, W] (inferences, warm-ups) or leave it out")
        ev.check_rule(o.rounding)
        ev.encoding_for(o.input_encoding, "")

    # ---- connection ----
    def url(self) -> str:
        return self.opts.url

    def where(self) -> str:
        return f"target {self.target.name} ({self.url()})"

    def _connect(self):
        """A stream to the device (the fake and QEMU kinds change this)."""
        self._ser = open_url(self.url(), self.opts.baud, f"target {self.target.name}")
        return SerialStream(self._ser, self.url())

    def time_unit(self) -> str:
        return "ns"

    def tick_scale(self) -> float:
        """Device microseconds → the reported unit."""
        return 1000.0

    def time_note(self) -> str:
        return "m-lap-us: microseconds of the device's own timer (th_timestamp), reported as ns"

    def open(self) -> TargetInfo:
        if not self.url():
            raise ConfigError(f"target {self.target.name}: options.url is empty; give a pyserial URL such as "
                              "/dev/ttyACM0 or socket://host:port")
        self._attach()
        return TargetInfo(self.target.name, self.kind, board=self.device["name"], cpu="", time_unit=self.time_unit(),
                          clock_hz=None, facts={"url": self.url(), **self.device_facts()})

    def device_facts(self) -> dict:
        return {"protocol": "MLPerf Tiny (EEMBC)", "dut": self.device["name"], "profile": self.device["profile"],
                "model_id": self.device["model"], "time_note": self.time_note()}

    def _attach(self) -> None:
        """Connect, read the boot banner when the device boots now, ask name and profile."""
        self.client = EembcClient(self._connect(), self.where())
        banner = self.client.boot_banner(self.opts.boot_timeout) if self.opts.expect_boot else []
        self._check_banner(banner)
        try:
            self._handshake()
        except DeviceReset as e:  # the board booted as we connected: its banner, then again
            self._check_banner([e.line])
            self.client.boot_banner(self.opts.boot_timeout, e.line)
            self._handshake()

    def _check_banner(self, lines: list[str]) -> None:
        if any(x.startswith("m-timestamp-mode-energy") for x in lines):
            raise TargetError(f"{self.where()}: the device is in energy mode (m-timestamp-mode-energy): its "
                              "timestamps are GPIO pulses for an energy monitor; build it for performance mode")

    def _handshake(self) -> None:
        c, t = self.client, self.opts.command_timeout
        c.drain(0.05)
        name = parse_name(c.command("name", t), self.where())
        profile, model = parse_profile(c.command("profile", t), self.where())
        if self.opts.model_id and model != self.opts.model_id:
            raise TargetError(f"{self.where()}: the device runs {model!r}, the target file expects "
                              f"{self.opts.model_id!r} (options.model_id)")
        if self.device and model != self.device["model"]:
            raise TargetError(f"{self.where()}: after a reset the device runs {model!r}, before it ran "
                              f"{self.device['model']!r}")
        self.device = {"name": name, "profile": profile, "model": model}

    def close(self) -> None:
        ser, self._ser, self.client = getattr(self, "_ser", None), None, None
        if ser is not None:
            ser.close()

    # ---- model ----
    def load(self, model: bytes, name: str) -> LoadInfo:
        from ...core.model import inspect

        info = inspect(model, name, name)
        if len(info.inputs) != 1:
            raise UnsupportedModel(f"{name}: {len(info.inputs)} inputs; the MLPerf Tiny protocol sends one")
        mid = self.device["model"]
        self.printed, self.single_us = {}, []
        self._enc = ev.encoding_for(self.opts.input_encoding, mid)
        self._spec, self._outs = info.inputs[0], info.outputs
        facts = ev.MODELS.get(mid)
        if facts and int(np.prod(self._spec.shape)) != facts.input_elems:
            raise UnsupportedModel(f"{name}: input {list(self._spec.shape)} has {int(np.prod(self._spec.shape))} "
                                   f"values; the device runs {mid} ({facts.input_elems} values): give the .tflite "
                                   "compiled into the firmware")
        notes = (f"{mid} is compiled into the device; {name} gives the host references and the output scale "
                 "(it is not uploaded)",)
        return LoadInfo(hashlib.sha256(model).hexdigest(), 0.0, info.inputs, info.outputs, notes,
                        {"eembc_model": mid, "dut": self.device["name"], "input_encoding": self._enc,
                         "db_bytes": self.opts.db_bytes})

    # ---- inferences ----
    def run(self, inputs: Sequence[np.ndarray]) -> RunResult:
        if self._spec is None:
            raise TargetError(f"target {self.target.name}: run() before load()")
        if len(inputs) != 1:
            raise InputError(f"target {self.target.name}: {len(inputs)} input arrays; the protocol sends one")
        x = np.asarray(inputs[0])
        n, self._resets_before = len(x), self.resets
        outs = [np.empty((n, *o.sample_shape), np.int8) for o in self._outs]
        ticks, amb = np.zeros(n, np.int64), np.zeros(n, np.int32)
        printed: list[tuple[str, ...]] = []
        for s in range(n):
            data = self.encode(x[s])
            reply = self.infer(data, 1, 0)
            ticks[s] = reply.elapsed_us
            self.single_us.append(reply.elapsed_us)
            printed.append(reply.values)
            amb[s] = self._store(reply.values, outs, s)
        ticks = np.rint(ticks * self.tick_scale()).astype(np.int64)
        values = np.array([[float(v) for v in p] for p in printed], np.float64).reshape(n, -1)
        return RunResult(outs, ticks, extra={"printed_0": values, "ambiguous": amb})

    def encode(self, row: np.ndarray) -> bytes:
        """One sample's int8 values as the bytes this device's th_load_tensor expects."""
        return ev.encode_input(row, self._spec, self._enc)

    def infer(self, data: bytes, n: int, w: int) -> InferReply:
        """Upload one sample and run `infer n w`; a reset of the device repeats both."""
        for _ in range(self.opts.max_resets + 1):
            try:
                self._upload(data)
                reply = self._infer(n, w)
                self.printed[data] = reply.values
                return reply
            except DeviceReset as e:
                self._recover(e)
        raise TargetError(f"{self.where()}: the device reset {self.opts.max_resets + 1} times on one sample")

    def _upload(self, data: bytes) -> None:
        c, t, k = self.client, self.opts.command_timeout, self.opts.db_bytes
        got = self._known(c.command(f"db load {len(data)}", t))
        if got != [f"m-[Expecting {len(data)} bytes]"]:
            raise _malformed(self.where(), f"db load {len(data)}", f"m-[Expecting {len(data)} bytes]", got)
        for i in range(0, len(data), k):
            cmd = f"db {data[i:i + k].hex()}"
            got = self._known(c.command(cmd, t))
            want = ["m-load-done"] if i + k >= len(data) else []
            if got != want:
                raise _malformed(self.where(), cmd[:12] + "…", want[0] if want else "no line", got,
                                 f" after {min(i + k, len(data))} of {len(data)} bytes")

    def _known(self, lines: list[str]) -> list[str]:
        """The protocol's lines of a reply: all of them when strict, the m-… ones otherwise."""
        return lines if self.opts.strict else [x for x in lines if x.startswith("m-")]

    def _infer(self, n: int, w: int) -> InferReply:
        per = self.slowest_infer  # host seconds per inference, slowest seen
        allowed = 4 * per * (n + w) + self.opts.command_timeout if per else self.opts.infer_timeout
        t0 = time.monotonic()
        lines = self.client.command(f"infer {n} {w}", allowed)
        self.slowest_infer = max(self.slowest_infer, (time.monotonic() - t0) / max(1, n + w))
        return parse_infer(lines, n, w, self.where(), self.opts.strict)

    def _recover(self, e: DeviceReset) -> None:
        """The banner has begun: read the rest, re-synchronise, check the model is the same."""
        self.resets += 1
        if self.resets - self._resets_before > self.opts.max_resets:
            raise TargetError(f"{self.where()}: the device reset {self.resets - self._resets_before} times in one "
                              f"batch; last: {e}") from None
        self.client.boot_banner(self.opts.boot_timeout, e.line)
        self.client.resync(self.opts.boot_timeout)
        self._handshake()

    def _store(self, values: tuple[str, ...], outs: list[np.ndarray], s: int) -> int:
        """Printed values → int8 outputs of sample s; how many values were ambiguous."""
        total = sum(o[0].size for o in outs)
        if len(values) != total:
            raise TargetError(f"{self.where()}: the device printed {len(values)} result values, the model has "
                              f"{total} outputs{_score_hint(self.device.get('model'), len(values))}")
        as_int = self.opts.results == "int8" or (self.opts.results == "auto" and not any("." in v or "e" in v.lower()
                                                                                           for v in values))
        pos, amb = 0, 0
        for o, spec in zip(outs, self._outs):
            k = o[0].size
            texts = values[pos:pos + k]
            if as_int:
                q = np.array([int(float(v)) for v in texts])
                if q.min() < -128 or q.max() > 127:
                    raise TargetError(f"{self.where()}: result values {q.min()}..{q.max()} are not int8 "
                                      "(options.results: int8)")
            else:
                try:
                    rec = ev.recover_int8(texts, spec, self.opts.rounding)
                except TargetError as e:
                    raise TargetError(f"{self.where()}: sample {s}: {e}") from None
                q, amb = rec.q, amb + rec.ambiguous
            o[s] = q.astype(np.int8).reshape(o.shape[1:])
            pos += k
        return amb

    def figures(self, inputs: Sequence[np.ndarray]) -> dict:
        from .perf import performance

        self._resets_before = self.resets
        return {"eembc_performance": performance(self, np.asarray(inputs[0]))} if self.opts.perf_windows else {}




def _score_hint(model: str | None, printed: int) -> str:
    if printed == 1:
        return (f" ({model} prints one score per inference, as the ad01 reference prints its anomaly score: there "
                "are no outputs to compare; build the image to print its raw outputs, e.g. ours with EE_RESULTS=int8)")
    return ": is the .tflite the one compiled into the firmware?"


def _malformed(where: str, cmd: str, want: str, got: list[str], extra: str = "") -> TargetError:
    from .client import MalformedReply

    seen = "; ".join(repr(x) for x in got) or "no lines"
    return MalformedReply(f"{where}: expected {want} in the reply to `{cmd}`{extra}, got {seen}")
