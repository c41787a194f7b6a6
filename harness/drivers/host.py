"""The host target: this machine's TFLite runtimes, behind the same Driver interface as a board."""

from __future__ import annotations

import hashlib
import os
import platform
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..config import load_dataclass, opt
from ..models import inspect
from ..runtimes import KERNELS, RUNTIMES, Runner, runtime_version
from . import register
from .base import Driver, LoadInfo, RunResult, TargetInfo


@dataclass(frozen=True)
class HostOptions:
    """targets/host.yaml `options:`."""

    kernels: str = opt("optimized", choices=KERNELS)
    runtime: str = opt("auto", choices=RUNTIMES)
    threads: int = opt(1, min=1, max=1024)


@register("host")
class HostDriver(Driver):
    """Runs on this machine; time is perf_counter_ns around invoke() only."""

    options_class = HostOptions

    def open(self) -> TargetInfo:
        self.opts: HostOptions = load_dataclass(HostOptions, self.target.options, f"{self.target.path}: options")
        self._runner = Runner(self.opts.kernels, self.opts.runtime, self.opts.threads)
        version = "tflite-micro" if self.opts.kernels == "tflm" else runtime_version(self.opts.runtime)
        return TargetInfo(
            name=self.target.name, kind="host", board=platform.node() or "host",
            cpu=platform.processor() or platform.machine(), time_unit="ns",
            facts={"kernels": self.opts.kernels, "runtime": version, "threads": self.opts.threads,
                   "machine": platform.machine(), "python": platform.python_version(),
                   "cores": os.cpu_count()},
        )

    def load(self, model: bytes, name: str) -> LoadInfo:
        info = inspect(model, name)
        self._model = model
        t0 = time.perf_counter()
        self._runner.load(model, name)
        notes = (self._runner.note,) if self._runner.note else ()
        return LoadInfo(hashlib.sha256(model).hexdigest(), time.perf_counter() - t0,
                        info.inputs, info.outputs, notes)

    def run(self, inputs: Sequence[np.ndarray]) -> RunResult:
        outputs, times = self._runner.run(inputs)
        return RunResult(outputs, times)

    def tensors(self, inputs: Sequence[np.ndarray]) -> dict[int, np.ndarray]:
        """All intermediate tensors of one sample, from a separate preserve-all interpreter."""
        from ..layers import oracle_tensors, tflite_tensors
        from ..models import op_tensors

        rows = [a[0] for a in inputs]
        if self.opts.kernels == "firmware":
            from ..native_adapter import native_tensors

            return native_tensors(self._model, rows)
        if self.opts.kernels == "tflm":
            wanted = [o.tensor for o in op_tensors(self._model, "model")]
            return oracle_tensors(self._model, rows, wanted, "model")
        return tflite_tensors(self._model, rows, self.opts.kernels, self.opts.runtime)[0]

    def close(self) -> None:
        self._runner = None
