"""The host target: this machine's TFLite runtimes, behind the same Driver interface as a board.

The interpreter runs in a worker process (harness.isolate), so a model that crashes it fails
this target with one line instead of killing the harness; the timed loop runs there too, with
perf_counter_ns around invoke() only.
"""

from __future__ import annotations

import hashlib
import os
import platform
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..core.schema import load_dataclass, opt
from ..core.model import inspect, op_tensors
from ..errors import UnsupportedModel
from ..runtimes.interpreters import RUNTIMES, runtime_version
from ..runtimes.isolate import InterpreterCrashed
from ..runtimes.runner import KERNELS, Runner
from . import register
from .base import Driver, LoadInfo, RunResult, TargetInfo

RUN_STEP = 32  # rows per call to the worker: progress moves within a batch, the calls stay few


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
        self._layers: Runner | None = None
        version = {"tflm": "tflite-micro", "firmware": "firmware engine (native)"}.get(self.opts.kernels) \
            or runtime_version(self.opts.runtime)
        return TargetInfo(
            name=self.target.name, kind="host", board=platform.node() or "host",
            cpu=platform.processor() or platform.machine(), time_unit="ns",
            facts={"kernels": self.opts.kernels, "runtime": version, "threads": self.opts.threads,
                   "machine": platform.machine(), "python": platform.python_version(),
                   "cores": os.cpu_count()},
        )

    def load(self, model: bytes, name: str) -> LoadInfo:
        info = inspect(model, name)
        self._model, self._name = model, name
        self._close_layers()
        t0 = time.perf_counter()
        notes = self._load_runner(model, name)
        return LoadInfo(hashlib.sha256(model).hexdigest(), time.perf_counter() - t0,
                        info.inputs, info.outputs, notes)

    def _load_runner(self, model: bytes, name: str) -> tuple[str, ...]:
        """Load on the configured kernels; `reference` falls back to TFLM when tflite-runtime refuses."""
        self._runner.close()
        self._runner = Runner(self.opts.kernels, self.opts.runtime, self.opts.threads)
        try:
            self._runner.load(model, name)
            return ()
        except UnsupportedModel as e:
            if self.opts.kernels != "reference" or isinstance(e, InterpreterCrashed):
                raise
            self._runner = Runner("tflm")
            self._runner.load(model, name)
            return (f"tflite-runtime refused the model ({e}); reference = TFLM",)

    def run(self, inputs: Sequence[np.ndarray]) -> RunResult:
        """In steps of RUN_STEP rows, so that progress moves while a batch runs."""
        n = len(inputs[0]) if len(inputs) else 0
        parts = []
        for start in range(0, max(n, 1), RUN_STEP):
            parts.append(self._runner.run([x[start:start + RUN_STEP] for x in inputs]))
            self.watcher.inferences(len(parts[-1][1]))
        if len(parts) == 1:
            return RunResult(*parts[0])
        return RunResult([np.concatenate(o) for o in zip(*(p[0] for p in parts))], np.concatenate([p[1] for p in parts]))

    def memory(self) -> dict[str, int]:
        """Peak RSS of the worker process that ran the model (VmHWM)."""
        rss = self._runner.peak_rss()
        return {} if rss is None else {"peak_rss_bytes": rss}

    def tensors(self, inputs: Sequence[np.ndarray]) -> dict[int, np.ndarray]:
        """Each op's output tensor for one sample, from a second, preserve-all interpreter."""
        if self._layers is None:
            self._layers = Runner(self._runner.kernels, self.opts.runtime, self.opts.threads)
            self._layers.load(self._model, self._name, preserve_all=True)
        rows = [a[0] for a in inputs]
        return self._layers.tensors(rows, [o.tensor for o in op_tensors(self._model, self._name)])[0]

    def _close_layers(self) -> None:
        if getattr(self, "_layers", None) is not None:
            self._layers.close()
            self._layers = None

    def close(self) -> None:
        self._close_layers()
        if getattr(self, "_runner", None) is not None:
            self._runner.close()
            self._runner = None
