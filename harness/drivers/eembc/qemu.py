"""Our engine as an MLPerf Tiny benchmark image on QEMU (firmware/eembc, kind qemu-eembc): the
eembc driver's test device, which CI can run.

The image holds its model, so load() builds it for the model it is given (`make -C firmware
eembc MODEL=… EE_MODEL=<id>`; the id — kws01, vww01, ic01, ad01 — comes from the model's IO
sizes or options.model_id) and starts QEMU with it (drivers/qemu.py's process handling); from
then on this is the eembc driver over QEMU's serial socket. options.elf runs a prebuilt image
instead, e.g. a third-party MLPerf Tiny image for the same machine.

Time: the image stamps m-lap-us from SysTick at the board clock (25 ticks per µs at 25 MHz).
Under `-icount shift=N` those are virtual microseconds: 1 µs = 1000 / 2^N instructions. They
are reported as instructions (the qemu kind's unit, resolution 1000 at N = 0) and repeat
exactly run to run; they are not the time of a real Cortex-M4.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ...core.paths import ROOT
from ...errors import TargetError
from .. import register
from ..base import TargetInfo
from ..qemu import QemuLaunch, QemuProcess
from .driver import EembcDriver, EembcOptions
from .values import guess_model_id


@dataclass(frozen=True)
class QemuEembcOptions(EembcOptions, QemuLaunch):
    """targets/qemu-*-eembc.yaml `options:`: the eembc options (no url) and QEMU's."""

    cpu: str = "cortex-m4"
    clock_hz: int = 25_000_000  # the board clock: µs at one instruction per cycle, as kind qemu
    expect_boot: bool = True  # QEMU starts the guest when we connect: its banner comes first
    firmware_results: str = ""  # EE_RESULTS of the image ("": the model id's reference format)


@register("qemu-eembc")
class QemuEembcDriver(QemuProcess, EembcDriver):
    """See the module docstring."""

    options_class = QemuEembcOptions
    _elf: Path | None = None

    def elf(self) -> Path:
        return Path(self.opts.elf) if self.opts.elf else self._elf

    def time_unit(self) -> str:
        return "instructions" if self.opts.icount is not None else "ns"

    def tick_scale(self) -> float:
        return 1000.0 / (1 << self.opts.icount) if self.opts.icount is not None else 1000.0

    def time_note(self) -> str:
        if self.opts.icount is None:
            return "m-lap-us: QEMU's virtual µs following host time (no -icount), reported as ns"
        return (f"m-lap-us: QEMU -icount shift={self.opts.icount} virtual µs = {self.tick_scale():g} instructions "
                "each, reported as instructions; not the time of a real core")

    def open(self) -> TargetInfo:
        """Nothing runs yet: the image is built and started per model in load()."""
        facts = {"protocol": "MLPerf Tiny (EEMBC)", "machine": self.opts.machine, "icount": self.opts.icount,
                 "time_note": self.time_note()}
        return TargetInfo(self.target.name, self.kind, board=f"{self.opts.board} (MLPerf Tiny image)",
                          cpu=self.opts.cpu, time_unit=self.time_unit(), clock_hz=self.opts.clock_hz, facts=facts)

    def load(self, model: bytes, name: str):
        from ...core.model import inspect

        info = inspect(model, name, name)
        model_id = self.opts.model_id or guess_model_id(info.inputs, info.outputs) or _id_of(name)
        if not self.opts.elf:
            self._elf = self.build(model, model_id, name)
        self._stop_image()
        try:
            self._launch()
            with self._explained():
                self._attach()
                loaded = super().load(model, name)
        except BaseException:
            self._stop_image()
            raise
        return type(loaded)(loaded.sha256, loaded.load_time_s, loaded.inputs, loaded.outputs, loaded.notes,
                            {**loaded.facts, **self.qemu_facts(), "elf": str(self.elf())})

    def build(self, model: bytes, model_id: str, name: str) -> Path:
        """make -C firmware eembc for this model; the image's folder is named by its sha256."""
        rel = f"build/{self.opts.board}/eembc/{hashlib.sha256(model).hexdigest()[:16]}-{model_id}"
        out = ROOT / "firmware" / rel
        out.mkdir(parents=True, exist_ok=True)
        src = out / "input.tflite"
        if not src.exists() or src.read_bytes() != model:
            src.write_bytes(model)
        cmd = ["make", "-s", "-C", str(ROOT / "firmware"), "eembc", f"BOARD={self.opts.board}", f"MODEL={src}",
               f"EE_MODEL={model_id}", f"EE_OUT={rel}"]
        if self.opts.firmware_results:
            cmd.append(f"EE_RESULTS={self.opts.firmware_results}")
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            tail = " | ".join((r.stderr or r.stdout).strip().splitlines()[-3:])
            raise TargetError(f"target {self.target.name}: building the MLPerf Tiny image of {name} failed "
                              f"({' '.join(cmd[2:])}): {tail}")
        return out / "eembc.elf"

    def run(self, inputs):
        with self._explained():
            return super().run(inputs)

    def figures(self, inputs):
        with self._explained():
            return super().figures(inputs)

    def _stop_image(self) -> None:
        EembcDriver.close(self)
        self._shutdown()
        self.device, self.slowest_infer = {}, 0.0  # the next image is another device

    def close(self) -> None:
        self._stop_image()


def _id_of(name: str) -> str:
    """A model id for a model the benchmark does not know: its name in [a-z0-9] (make checks it)."""
    return "".join(c for c in name.lower() if c.isascii() and c.isalnum())[:24] or "model"
