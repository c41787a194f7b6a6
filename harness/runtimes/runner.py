"""The host's TFLite interpreters behind one small interface.

Kernel sets: `optimized` (tflite-runtime / ai-edge-litert default kernels), `reference`
(BUILTIN_REF kernels), `tflm` (the TFLite Micro interpreter, the oracle for our firmware) and
`firmware` (our own engine compiled for this machine).

`Runner` is what the rest of the harness uses: it verifies the model with our own reader
(harness.verify), then loads it in a worker process (harness.isolate), where the adapters of
harness.interpreters run it. Nothing in the harness's own process ever hands a model to a
third-party interpreter.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.tensors import TensorSpec
from ..core.verify import verify
from ..errors import ConfigError, ModelError, UnsupportedModel
from .interpreters import runtime_name
from .isolate import InterpreterCrashed, Worker

KERNELS = ("optimized", "reference", "tflm", "firmware")


def _label(kernels: str, runtime: str) -> str:
    """The interpreter's name in messages: "TFLM crashed on this model: SIGABRT"."""
    return {"tflm": "TFLM", "firmware": "the firmware engine"}.get(kernels) or runtime_name(runtime)


class Runner:
    """One model on one kernel set, in its own worker process: set inputs, invoke, read outputs."""

    def __init__(self, kernels: str, runtime: str = "auto", threads: int = 1) -> None:
        if kernels not in KERNELS:
            raise ConfigError(f"unknown kernels {kernels!r}; choose one of {', '.join(KERNELS)}")
        self.kernels, self.runtime, self.threads = kernels, runtime, threads
        self._worker: Worker | None = None
        self._specs: list[TensorSpec] = []
        self._where = ""

    def load(self, model: bytes, where: str, preserve_all: bool = False) -> None:
        """Verify the model, start a worker and build the interpreter there; UnsupportedModel if refused."""
        verify(model, where)
        if self.kernels == "firmware":
            from .native_adapter import build_native

            build_native()
        self.close()
        self._where = where
        worker = Worker(_label(self.kernels, self.runtime)).start()
        try:
            reply, _ = self._call(worker, {"op": "load", "kernels": self.kernels, "runtime": self.runtime,
                                           "threads": self.threads, "where": where, "preserve_all": preserve_all},
                                  [np.frombuffer(model, np.uint8)])
        except BaseException:
            worker.close()
            raise
        self._worker = worker
        self._specs = [TensorSpec(**{**s, "shape": tuple(s["shape"])}) for s in reply["specs"]]

    def _call(self, worker: Worker | None, head: dict, arrays: Sequence[np.ndarray] = ()):
        if worker is None:
            raise UnsupportedModel(f"{self._where or 'runner'}: no model loaded")
        try:
            return worker.call(head, arrays)
        except InterpreterCrashed as e:
            worker.close()
            self._worker = None
            raise InterpreterCrashed(f"{self._where}: {e}") from None

    def run(self, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
        """Outputs for each row, and ns per invoke() (timed in the worker, around invoke() only)."""
        _, arrays = self._call(self._worker, {"op": "run"}, inputs)
        return arrays[:-1], arrays[-1]

    def tensors(self, rows: Sequence[np.ndarray], wanted: Sequence[int] | None = None
                ) -> tuple[dict[int, np.ndarray], dict[str, np.ndarray]]:
        """One sample's tensors (load with preserve_all=True) by index and by name; `wanted` or all."""
        reply, arrays = self._call(self._worker, {"op": "tensors", "wanted": None if wanted is None else
                                                  [int(t) for t in wanted]}, rows)
        by_index = dict(zip(reply["indices"], arrays))
        by_name = {n: a for n, a in zip(reply["names"], arrays) if n}
        return by_index, by_name

    def peak_rss(self) -> int | None:
        """Peak resident memory of the worker process so far, in bytes (None when unknown)."""
        return None if self._worker is None else self._worker.peak_rss()

    def output_specs(self) -> list[TensorSpec]:
        return list(self._specs)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reason(e: Exception, where: str) -> str:
    """An error about model `where` without the model's path in front: for a reason stored under it."""
    text = str(e)
    return text[len(where) + 2:] if text.startswith(f"{where}: ") else text


def probe_model(model: bytes, where: str) -> None:
    """Fail early with a ModelError when not even TFLM can load the model."""
    try:
        with Runner("tflm") as r:
            r.load(model, where)
    except UnsupportedModel as e:
        raise ModelError(str(e)) from None
