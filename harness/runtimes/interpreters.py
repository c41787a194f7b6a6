"""The host's interpreters themselves — what runs inside a worker process (harness.worker).

One adapter per kernel set with the same small interface (setter, getter, invoke, output_specs,
tensors): tflite-runtime / ai-edge-litert (`optimized`, `reference`), the TFLite Micro interpreter
(`tflm`) and our firmware engine (`firmware`, harness.native_adapter). The harness's own process
never calls these with a model: harness.runtimes.runner.Runner does, through a worker.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from typing import Sequence

import numpy as np

from ..core.tensors import TensorSpec, sample_shape
from ..core.tflite import RUNTIME_MODULES
from ..errors import ConfigError, UnsupportedModel

RUNTIMES = ("auto", *RUNTIME_MODULES)
_INSTALL = ("run `make venv` or `pip install 'numpy<2' tflite-runtime==2.14.0` (or ai-edge-litert)")


def runtime_name(runtime: str = "auto") -> str:
    """Which runtime `runtime` means here ("auto": the first installed), without importing it."""
    if runtime not in RUNTIMES:
        raise ConfigError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    for name in (list(RUNTIME_MODULES) if runtime == "auto" else [runtime]):
        top = RUNTIME_MODULES[name].split(".")[0]
        if importlib.util.find_spec(top) is not None:
            return name
    raise ConfigError(f"runtime {runtime!r} is not installed; {_INSTALL}")


def interpreter_module(runtime: str = "auto"):
    """The tflite-runtime or ai-edge-litert interpreter module; ConfigError saying how to install."""
    name = runtime_name(runtime)
    try:
        return importlib.import_module(RUNTIME_MODULES[name])
    except ImportError as e:
        raise ConfigError(f"runtime {name} cannot be imported ({e}); {_INSTALL}") from None


def runtime_version(runtime: str = "auto") -> str:
    mod = interpreter_module(runtime)
    top = importlib.import_module(mod.__name__.split(".")[0])
    return f"{top.__name__} {getattr(top, '__version__', '?')}"


def open_adapter(model: bytes, kernels: str, runtime: str, threads: int, where: str, preserve_all: bool):
    """The interpreter for one kernel set, ready to run."""
    if kernels == "tflm":
        return _TflmAdapter(model, where, preserve_all)
    if kernels == "firmware":
        from .native_adapter import NativeAdapter

        return NativeAdapter(model, where, preserve_all)
    try:
        return _TfliteAdapter(tflite_interpreter(model, kernels, runtime, threads, preserve_all))
    except (ValueError, RuntimeError) as e:
        raise UnsupportedModel(f"{where}: {runtime_name(runtime)} ({kernels} kernels) refused it "
                               f"({_first_line(e)})") from None


def run_rows(it, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
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
    """The reason in an interpreter's exception: tflite-runtime puts it on the first line ("Didn't find
    op for builtin opcode 'FULLY_CONNECTED' version '12'") and a generic one on the last ("Registration
    failed."); both when they differ."""
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()] or [type(e).__name__]
    text = lines[0] if len(lines) == 1 or lines[0] == lines[-1] else f"{lines[0]} … {lines[-1]}"
    return text[:300]


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


class _TfliteAdapter:
    def __init__(self, it) -> None:
        self.it = it
        self.ins_d = it.get_input_details()
        self.outs_d = it.get_output_details()
        self.num_outputs = len(self.outs_d)
        self.invoke = it.invoke

    def setter(self, i: int):
        set_tensor, idx, shape = self.it.set_tensor, self.ins_d[i]["index"], tuple(self.ins_d[i]["shape"])
        return lambda row: set_tensor(idx, row.reshape(shape))

    def getter(self, j: int):
        get_tensor, idx, shape = self.it.get_tensor, self.outs_d[j]["index"], sample_shape(self.outs_d[j]["shape"])
        return lambda: get_tensor(idx).reshape(shape)

    def output_specs(self) -> list[TensorSpec]:
        return [TensorSpec(d["name"], tuple(int(v) for v in d["shape"]), np.dtype(d["dtype"]).name,
                           float(d["quantization"][0]), int(d["quantization"][1])) for d in self.outs_d]

    def tensors(self, rows, wanted) -> list[tuple[int, str, np.ndarray]]:
        """Every tensor with data after one invoke (experimental_preserve_all_tensors)."""
        for d, row in zip(self.ins_d, rows):
            self.it.set_tensor(d["index"], row.reshape(d["shape"]).astype(d["dtype"]))
        self.it.invoke()
        keep = None if wanted is None else set(wanted)
        out = []
        for d in self.it.get_tensor_details():
            if keep is not None and d["index"] not in keep:
                continue
            try:
                out.append((int(d["index"]), str(d["name"]), np.array(self.it.get_tensor(d["index"]))))
            except ValueError:  # tensors without data (e.g. optional inputs)
                continue
        return out


class _TflmAdapter:
    """The tflite-micro PyPI interpreter (real TFLM kernels, x86 build)."""

    def __init__(self, model: bytes, where: str, preserve_all: bool = False) -> None:
        try:
            from tflite_micro.python.tflite_micro import runtime as tflm
        except ImportError:
            raise ConfigError("tflite-micro is not installed; run `make venv`") from None
        from ..core.verify import external_buffers

        if external_buffers(model):  # its answers would be computed on other weights
            raise UnsupportedModel(f"{where}: the TFLM interpreter does not read buffers stored after the "
                                   "flatbuffer (Buffer.offset, the large-model layout)")
        kw = {"intrepreter_config": tflm.InterpreterConfig.kPreserveAllTensors} if preserve_all else {}
        try:
            # TFLM's default arena (10 x model size) is too small for activation-heavy graphs.
            self.it = tflm.Interpreter.from_bytes(model, arena_size=len(model) * 10 + (16 << 20), **kw)
        except Exception as e:  # the TFLM binding raises bare RuntimeError/ValueError
            raise UnsupportedModel(f"{where}: the TFLM interpreter cannot run it ({_first_line(e)})") from None
        from ..core.model import inspect  # counts from our reader: probing TFLM prints errors

        info = inspect(model, where)
        self.num_outputs = len(info.outputs)
        self.in_shapes = [t.shape for t in info.inputs]
        self.out_shapes = [t.shape for t in info.outputs]
        self.invoke = self.it.invoke

    def setter(self, i: int):
        set_input, shape = self.it.set_input, self.in_shapes[i]
        return lambda row: set_input(row.reshape(shape), i)

    def getter(self, j: int):
        get_output, shape = self.it.get_output, sample_shape(self.out_shapes[j])
        return lambda: np.array(get_output(j)).reshape(shape)

    def output_specs(self) -> list[TensorSpec]:
        specs = []
        for d in (self.it.get_output_details(j) for j in range(self.num_outputs)):
            q = d.get("quantization_parameters", {})
            sc, zp = q.get("scales", [0.0]), q.get("zero_points", [0])
            specs.append(TensorSpec(str(d.get("name", "")), tuple(int(v) for v in d["shape"]),
                                    np.dtype(d["dtype"]).name, float(sc[0]) if len(sc) else 0.0,
                                    int(zp[0]) if len(zp) else 0))
        return specs

    def tensors(self, rows, wanted) -> list[tuple[int, str, np.ndarray]]:
        """The wanted tensors after one invoke (kPreserveAllTensors); TFLM has no tensor names."""
        for i, (row, shape) in enumerate(zip(rows, self.in_shapes)):
            self.it.set_input(row.reshape(shape), i)
        self.it.invoke()
        return [(int(t), "", np.array(self.it.GetTensor(int(t), 0)["tensor_data"])) for t in wanted or ()]
