"""ctypes wrapper over the firmware core built for this machine (firmware/build/native/libhbcore.so).

    eng = NativeEngine.from_file("model.tflite")      # or NativeEngine(model_bytes)
    eng.set_input(0, x); eng.invoke(); y = eng.output(0)
    eng.tensor(i)                                      # any readable tensor (preserve_all=True: all)

Errors from the engine are raised as EngineError carrying the engine's own text and code.
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.paths import ROOT
from ..core.tflite import TENSOR_TYPES
from ..protocol.wire import ERROR_NAMES  # the engine's hb_error_t codes are the wire's 1..6

DEFAULT_LIB = ROOT / "firmware" / "build" / "native" / "libhbcore.so"
MAX_DIMS = 6


class EngineError(RuntimeError):
    """An error reported by the firmware engine; `code` is its HB_E_* number."""

    def __init__(self, code: int, text: str):
        super().__init__(text)
        self.code = code
        self.kind = ERROR_NAMES[code].lower() if code in ERROR_NAMES else str(code)


_CLOCK = ctypes.CFUNCTYPE(ctypes.c_uint32)


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("text", ctypes.c_char * 120)]


class _Info(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("ndims", ctypes.c_int), ("dims", ctypes.c_int32 * MAX_DIMS),
                ("bytes", ctypes.c_size_t), ("scale", ctypes.c_float), ("zero_point", ctypes.c_int32)]


@dataclass(frozen=True)
class TensorInfo:
    index: int
    dtype: type
    shape: tuple[int, ...]
    nbytes: int
    scale: float
    zero_point: int


_LIBS: dict[Path, ctypes.CDLL] = {}


def load_library(path: Path | str = DEFAULT_LIB) -> ctypes.CDLL:
    """Opens (once) and declares the C API of libhbcore.so."""
    path = Path(path).resolve()
    if path in _LIBS:
        return _LIBS[path]
    if not path.exists():
        raise FileNotFoundError(f"{path} not built: run `make -C firmware native`")
    lib = ctypes.CDLL(str(path))
    P, I, S = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
    sigs = {
        "hb_engine_sizeof": (S, []),
        "hb_engine_load": (I, [P, P, S, P, S, I, ctypes.POINTER(_Error)]),
        "hb_engine_invoke": (I, [P, _CLOCK, ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(_Error)]),
        "hb_engine_num_inputs": (I, [P]), "hb_engine_num_outputs": (I, [P]),
        "hb_engine_num_ops": (I, [P]), "hb_engine_num_tensors": (I, [P]),
        "hb_engine_tensor_info": (I, [P, I, ctypes.POINTER(_Info)]),
        "hb_engine_input_tensor": (I, [P, I]), "hb_engine_output_tensor": (I, [P, I]),
        "hb_engine_tensor": (P, [P, I, ctypes.POINTER(S)]),
        "hb_engine_op_name": (ctypes.c_char_p, [P, I]),
        "hb_engine_op_output_tensor": (I, [P, I]),
        "hb_engine_arena_used": (S, [P]), "hb_engine_arena_needed": (S, [P]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    lib.hb_engine_supported_op.restype, lib.hb_engine_supported_op.argtypes = ctypes.c_char_p, [I]
    # Writable pointers to inputs/outputs: same as hb_engine_tensor for our purposes.
    for name in ("hb_engine_input", "hb_engine_output"):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = P, [P, I]
    _LIBS[path] = lib
    return lib


def supported_ops(lib: Path | str = DEFAULT_LIB) -> list[str]:
    """The builtin ops the engine runs (int8), in its table order."""
    so, out = load_library(lib), []
    while (name := so.hb_engine_supported_op(len(out))) is not None:
        out.append(name.decode())
    return out


class NativeEngine:
    """One loaded model. The model bytes and the arena are owned here (kept alive)."""

    def __init__(self, model: bytes, arena_bytes: int = 4 << 20, preserve_all: bool = False,
                 lib: Path | str = DEFAULT_LIB):
        self._lib = load_library(lib)
        self._engine = ctypes.create_string_buffer(self._lib.hb_engine_sizeof())
        # 16-byte aligned copy of the model: the engine reads weights in place.
        self._model = ctypes.create_string_buffer(bytes(model), len(model) or 1)
        self._arena = ctypes.create_string_buffer(arena_bytes or 1)
        err = _Error()
        rc = self._lib.hb_engine_load(self._engine, self._model, len(model), self._arena, arena_bytes,
                                      1 if preserve_all else 0, ctypes.byref(err))
        if rc != 0:
            raise EngineError(rc, err.text.decode(errors="replace"))
        self.num_inputs = self._lib.hb_engine_num_inputs(self._engine)
        self.num_outputs = self._lib.hb_engine_num_outputs(self._engine)
        self.num_ops = self._lib.hb_engine_num_ops(self._engine)
        self.num_tensors = self._lib.hb_engine_num_tensors(self._engine)

    @classmethod
    def from_file(cls, path: Path | str, **kw) -> "NativeEngine":
        return cls(Path(path).read_bytes(), **kw)

    # ---- description ----
    def tensor_info(self, index: int) -> TensorInfo:
        info = _Info()
        if self._lib.hb_engine_tensor_info(self._engine, index, ctypes.byref(info)) != 0:
            raise IndexError(f"tensor {index} out of range ({self.num_tensors} tensors)")
        return TensorInfo(index, np.dtype(TENSOR_TYPES.get(info.type, "uint8")).type, tuple(info.dims[: info.ndims]), info.bytes,
                          info.scale, info.zero_point)

    def input_info(self, idx: int) -> TensorInfo:
        return self.tensor_info(self._check(self._lib.hb_engine_input_tensor(self._engine, idx), "input", idx))

    def output_info(self, idx: int) -> TensorInfo:
        return self.tensor_info(self._check(self._lib.hb_engine_output_tensor(self._engine, idx), "output", idx))

    def op_names(self) -> list[str]:
        return [self._lib.hb_engine_op_name(self._engine, i).decode() for i in range(self.num_ops)]

    def op_output_tensor(self, op: int) -> int:
        return self._lib.hb_engine_op_output_tensor(self._engine, op)

    @property
    def arena_used(self) -> int:
        return self._lib.hb_engine_arena_used(self._engine)

    # ---- data ----
    def set_input(self, idx: int, value) -> None:
        info = self.input_info(idx)
        arr = np.ascontiguousarray(value, dtype=info.dtype)
        if arr.nbytes != info.nbytes:
            raise ValueError(f"input {idx}: {arr.nbytes} bytes given, tensor {info.shape} needs {info.nbytes}")
        ctypes.memmove(self._lib.hb_engine_input(self._engine, idx), arr.ctypes.data, arr.nbytes)

    def invoke(self, profile: bool = False) -> list[int] | None:
        """Runs the graph. profile=True returns each op's elapsed ns (host clock through a
        Python callback, so each value carries ~1 us of call overhead)."""
        err = _Error()
        clock, ticks = _CLOCK(), None  # _CLOCK(): a NULL function pointer
        if profile:
            clock = _CLOCK(lambda: time.perf_counter_ns() & 0xFFFFFFFF)
            ticks = (ctypes.c_uint32 * max(self.num_ops, 1))()
        rc = self._lib.hb_engine_invoke(self._engine, clock, ticks, ctypes.byref(err))
        if rc != 0:
            raise EngineError(rc, err.text.decode(errors="replace"))
        return list(ticks)[: self.num_ops] if profile else None

    def output(self, idx: int) -> np.ndarray:
        return self.tensor(self._check(self._lib.hb_engine_output_tensor(self._engine, idx), "output", idx))

    def tensor(self, index: int) -> np.ndarray | None:
        """A copy of tensor `index`, or None when it is not readable (memory reused)."""
        info = self.tensor_info(index)
        n = ctypes.c_size_t()
        ptr = self._lib.hb_engine_tensor(self._engine, index, ctypes.byref(n))
        if not ptr:
            return None
        raw = ctypes.string_at(ptr, n.value)
        return np.frombuffer(raw, dtype=info.dtype).reshape(info.shape).copy()

    def run(self, *inputs) -> list[np.ndarray]:
        for i, x in enumerate(inputs):
            self.set_input(i, x)
        self.invoke()
        return [self.output(i) for i in range(self.num_outputs)]

    @staticmethod
    def _check(tensor: int, what: str, idx: int) -> int:
        if tensor < 0:
            raise IndexError(f"{what} {idx} out of range")
        return tensor
