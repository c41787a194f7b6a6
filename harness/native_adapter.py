"""Our firmware's inference engine compiled for this machine, as a host kernel set (`firmware`):
the same C core that runs on the boards, so host runs can isolate engine from board effects."""

from __future__ import annotations

import subprocess

import numpy as np

from .config import ROOT
from .errors import ConfigError, UnsupportedModel
from .native import DEFAULT_LIB, EngineError, NativeEngine


def build_native() -> None:
    """`make -C firmware native` when the library is missing or older than its sources."""
    r = subprocess.run(["make", "-s", "-C", str(ROOT / "firmware"), "native"], capture_output=True, text=True)
    if r.returncode != 0 or not DEFAULT_LIB.exists():
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigError(f"cannot build the native firmware core (make -C firmware native: {last}); "
                          "install gcc and make")


class NativeAdapter:
    """The Runner interface over NativeEngine."""

    def __init__(self, model: bytes, where: str) -> None:
        build_native()
        try:
            self.eng = NativeEngine(model)
        except EngineError as e:
            raise UnsupportedModel(f"{where}: the firmware engine refused it ({e})") from None
        self.num_outputs = self.eng.num_outputs
        self.invoke = self.eng.invoke

    def setter(self, i: int):
        return lambda row: self.eng.set_input(i, row)

    def getter(self, j: int):
        shape = self.eng.output_info(j).shape
        row = shape[1:] if shape and shape[0] == 1 else shape
        return lambda: self.eng.output(j).reshape(row)

    def output_specs(self):
        from .drivers.base import TensorSpec

        infos = [self.eng.output_info(j) for j in range(self.num_outputs)]
        return [TensorSpec(str(i.index), i.shape, np.dtype(i.dtype).name, i.scale, i.zero_point) for i in infos]


def native_tensors(model: bytes, rows) -> dict[int, np.ndarray]:
    """Every op's output tensor for one sample, from the engine in preserve-all mode."""
    build_native()
    eng = NativeEngine(model, preserve_all=True)
    for i, row in enumerate(rows):
        eng.set_input(i, row)
    eng.invoke()
    out = {}
    for op in range(eng.num_ops):
        t = eng.op_output_tensor(op)
        value = eng.tensor(t)
        if value is not None:
            out[t] = value
    return out
