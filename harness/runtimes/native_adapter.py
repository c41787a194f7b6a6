"""Our firmware's inference engine compiled for this machine, as a host kernel set (`firmware`):
the same C core that runs on the boards, so host runs can isolate engine from board effects."""

from __future__ import annotations

import subprocess

import numpy as np

from ..core.paths import ROOT
from ..core.tensors import TensorSpec, sample_shape
from ..errors import ConfigError, UnsupportedModel
from .native import DEFAULT_LIB, EngineError, NativeEngine

_built = False


def build_native() -> None:
    """`make -C firmware native` (once per process) when the library is missing or older than its sources."""
    global _built
    if _built and DEFAULT_LIB.exists():
        return
    r = subprocess.run(["make", "-s", "-C", str(ROOT / "firmware"), "native"], capture_output=True, text=True)
    if r.returncode != 0 or not DEFAULT_LIB.exists():
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigError(f"cannot build the native firmware core (make -C firmware native: {last}); "
                          "install gcc and make")
    _built = True


class NativeAdapter:
    """The Runner interface over NativeEngine (in the worker process, like every interpreter)."""

    def __init__(self, model: bytes, where: str, preserve_all: bool = False) -> None:
        try:
            self.eng = NativeEngine(model, preserve_all=preserve_all)
        except EngineError as e:
            raise UnsupportedModel(f"{where}: the firmware engine refused it ({e})") from None
        self.num_outputs = self.eng.num_outputs
        self.invoke = self.eng.invoke

    def setter(self, i: int):
        return lambda row: self.eng.set_input(i, row)

    def getter(self, j: int):
        row = sample_shape(self.eng.output_info(j).shape)
        return lambda: self.eng.output(j).reshape(row)

    def output_specs(self):
        infos = [self.eng.output_info(j) for j in range(self.num_outputs)]
        return [TensorSpec(str(i.index), i.shape, np.dtype(i.dtype).name, i.scale, i.zero_point) for i in infos]

    def tensors(self, rows, wanted) -> list[tuple[int, str, np.ndarray]]:
        """Each op's output tensor for one sample (preserve_all=True keeps them all readable)."""
        for i, row in enumerate(rows):
            self.eng.set_input(i, row)
        self.eng.invoke()
        keep = None if wanted is None else set(wanted)
        out = []
        for op in range(self.eng.num_ops):
            t = self.eng.op_output_tensor(op)
            value = self.eng.tensor(t) if keep is None or t in keep else None
            if value is not None:
                out.append((t, "", value))
        return out
