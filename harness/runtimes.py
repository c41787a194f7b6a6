"""The host's TFLite interpreters behind one small interface.

Kernel sets: `optimized` (tflite-runtime / ai-edge-litert default kernels), `reference`
(BUILTIN_REF kernels) and `tflm` (the TFLite Micro interpreter, the oracle for our firmware).
"""

from __future__ import annotations

import importlib
import time
from typing import Sequence

import numpy as np

from .drivers.base import TensorSpec
from .errors import ConfigError, ModelError, UnsupportedModel

KERNELS = ("optimized", "reference", "tflm", "firmware")
RUNTIMES = ("auto", "tflite-runtime", "ai-edge-litert")
_MODULES = {"tflite-runtime": "tflite_runtime.interpreter", "ai-edge-litert": "ai_edge_litert.interpreter"}


def interpreter_module(runtime: str = "auto"):
    """The tflite-runtime or ai-edge-litert interpreter module; ConfigError saying how to install."""
    names = list(_MODULES) if runtime == "auto" else [runtime]
    for name in names:
        if name not in _MODULES:
            raise ConfigError(f"unknown runtime {name!r}; choose one of {', '.join(RUNTIMES)}")
        try:
            return importlib.import_module(_MODULES[name])
        except ImportError:
            continue
    raise ConfigError(f"runtime {runtime!r} is not installed; run `make venv` or "
                      "`pip install 'numpy<2' tflite-runtime==2.14.0` (or ai-edge-litert)")


def runtime_version(runtime: str = "auto") -> str:
    mod = interpreter_module(runtime)
    top = importlib.import_module(mod.__name__.split(".")[0])
    return f"{top.__name__} {getattr(top, '__version__', '?')}"


class Runner:
    """One loaded model on one kernel set: set inputs, invoke, read outputs."""

    def __init__(self, kernels: str, runtime: str = "auto", threads: int = 1) -> None:
        if kernels not in KERNELS:
            raise ConfigError(f"unknown kernels {kernels!r}; choose one of {', '.join(KERNELS)}")
        self.kernels, self.runtime, self.threads = kernels, runtime, threads
        self.note = ""
        self._it = None

    def load(self, model: bytes, where: str) -> None:
        """Build the interpreter; `reference` falls back to TFLM when tflite-runtime refuses."""
        if self.kernels == "tflm":
            self._it = _TflmAdapter(model, where)
            return
        if self.kernels == "firmware":
            from .native_adapter import NativeAdapter

            self._it = NativeAdapter(model, where)
            return
        try:
            self._it = _make_tflite(model, self.kernels, self.runtime, self.threads)
        except (ValueError, RuntimeError) as e:
            if self.kernels != "reference":
                raise UnsupportedModel(f"{where}: {self.kernels} kernels cannot run it ({_first_line(e)})") from None
            self._it = _TflmAdapter(model, where)
            self.note = f"tflite-runtime refused the model ({_first_line(e)}); reference = TFLM"

    def run(self, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
        """Outputs for each row, and ns per invoke() (only invoke() is timed)."""
        return _run_rows(self._it, inputs)

    def output_specs(self) -> list[TensorSpec]:
        return self._it.output_specs()


def _run_rows(it, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """The timed loop, with everything bound to locals: its overhead is what `make perf` measures."""
    n = len(inputs[0])
    times = np.zeros(n, dtype=np.int64)
    setters = [(it.setter(i), x) for i, x in enumerate(inputs)]
    getters = [it.getter(j) for j in range(it.num_outputs)]
    invoke, clock = it.invoke, time.perf_counter_ns
    first = [g() for g in getters]  # shapes and dtypes of the outputs
    outs = [np.empty((n, *o.shape), o.dtype) for o in first]
    for r in range(n):
        for set_row, x in setters:
            set_row(x[r])
        t0 = clock()
        invoke()
        times[r] = clock() - t0
        for j, get in enumerate(getters):
            outs[j][r] = get()
    return outs, times


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[-1][:200]


def _row_shape(shape) -> tuple[int, ...]:
    """One sample's shape: without the leading batch dimension of 1 (as inputs.sample_shape)."""
    shape = tuple(int(v) for v in shape)
    return shape[1:] if shape and shape[0] == 1 else shape


class _TfliteAdapter:
    def __init__(self, it) -> None:
        self.it = it
        self.ins = [d["index"] for d in it.get_input_details()]
        self.outs_d = it.get_output_details()
        self.num_outputs = len(self.outs_d)
        self.shapes = [tuple(d["shape"]) for d in it.get_input_details()]
        self.invoke = it.invoke

    def setter(self, i: int):
        set_tensor, idx, shape = self.it.set_tensor, self.ins[i], self.shapes[i]
        return lambda row: set_tensor(idx, row.reshape(shape))

    def getter(self, j: int):
        get_tensor, idx, shape = self.it.get_tensor, self.outs_d[j]["index"], _row_shape(self.outs_d[j]["shape"])
        return lambda: get_tensor(idx).reshape(shape)

    def output_specs(self) -> list[TensorSpec]:
        return [TensorSpec(d["name"], tuple(int(v) for v in d["shape"]), np.dtype(d["dtype"]).name,
                           float(d["quantization"][0]), int(d["quantization"][1])) for d in self.outs_d]


def tflite_interpreter(model: bytes, kernels: str, runtime: str = "auto", threads: int = 1,
                       preserve_all: bool = False):
    """An allocated tflite-runtime / ai-edge-litert interpreter on the chosen kernel set."""
    mod = interpreter_module(runtime)
    kw = {"model_content": model, "num_threads": threads}
    if preserve_all:
        kw["experimental_preserve_all_tensors"] = True
    if kernels == "reference":
        kw["experimental_op_resolver_type"] = mod.OpResolverType.BUILTIN_REF
    it = mod.Interpreter(**kw)
    it.allocate_tensors()
    return it


def _make_tflite(model: bytes, kernels: str, runtime: str, threads: int) -> _TfliteAdapter:
    return _TfliteAdapter(tflite_interpreter(model, kernels, runtime, threads))


class _TflmAdapter:
    """The tflite-micro PyPI interpreter (real TFLM kernels, x86 build)."""

    def __init__(self, model: bytes, where: str) -> None:
        try:
            from tflite_micro.python.tflite_micro import runtime as tflm
        except ImportError:
            raise ConfigError("tflite-micro is not installed; run `make venv`") from None
        try:
            # TFLM's default arena (10 x model size) is too small for activation-heavy graphs.
            self.it = tflm.Interpreter.from_bytes(model, arena_size=len(model) * 10 + (16 << 20))
        except Exception as e:  # the TFLM binding raises bare RuntimeError/ValueError
            raise UnsupportedModel(f"{where}: the TFLM interpreter cannot run it ({_first_line(e)})") from None
        from .models import inspect  # counts from our reader: probing TFLM prints errors

        info = inspect(model, where)
        self.num_outputs = len(info.outputs)
        self.in_shapes = [t.shape for t in info.inputs]
        self.out_shapes = [t.shape for t in info.outputs]
        self.invoke = self.it.invoke

    def _outs(self) -> list[dict]:
        return [self.it.get_output_details(j) for j in range(self.num_outputs)]

    def setter(self, i: int):
        set_input, shape = self.it.set_input, self.in_shapes[i]
        return lambda row: set_input(row.reshape(shape), i)

    def getter(self, j: int):
        get_output, shape = self.it.get_output, _row_shape(self.out_shapes[j])
        return lambda: np.array(get_output(j)).reshape(shape)

    def output_specs(self) -> list[TensorSpec]:
        specs = []
        for d in self._outs():
            q = d.get("quantization_parameters", {})
            sc, zp = q.get("scales", [0.0]), q.get("zero_points", [0])
            specs.append(TensorSpec(str(d.get("name", "")), tuple(int(v) for v in d["shape"]),
                                    np.dtype(d["dtype"]).name, float(sc[0]) if len(sc) else 0.0,
                                    int(zp[0]) if len(zp) else 0))
        return specs


def probe_model(model: bytes, where: str) -> None:
    """Fail early with a ModelError when not even TFLM can parse the model."""
    try:
        _TflmAdapter(model, where)
    except UnsupportedModel as e:
        raise ModelError(str(e)) from None
