"""Host references for one model and input set: int8 kernels (TFLM oracle, BUILTIN_REF,
optimised) on the same int8 bytes, and the float twin on the exactly dequantised inputs.

A reference that cannot run the model (refused by its runtime, an op it lacks, a crash of its
worker process, the runtime not installed) is *unavailable*, with its reason; the others and
the device's results stand."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..core.model import ModelInfo
from ..core.tensors import dequantize
from ..errors import ConfigError, ModelError
from ..runtimes.runner import Runner, reason
from .inputs import InputSet

ROWS_PER_CALL = 1024  # the worker holds one chunk of inputs and outputs at a time


def _outputs(kernels: str, model: bytes, where: str, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """All rows through one worker, in chunks; the outputs concatenated."""
    parts = []
    with Runner(kernels) as r:
        r.load(model, where)
        for start in range(0, len(arrays[0]), ROWS_PER_CALL):
            parts.append(r.run([a[start:start + ROWS_PER_CALL] for a in arrays])[0])
    return [np.concatenate(p) for p in zip(*parts)]


def compute(names: Sequence[str], model: bytes, info: ModelInfo, inputs: InputSet,
            twin: tuple[bytes, ModelInfo] | None, step: Callable[[str], None]
            ) -> tuple[dict[str, list[np.ndarray]], dict[str, str]]:
    """({ref name: [outputs per tensor]}, {ref name: why it is unavailable}); `step` reports progress."""
    refs: dict[str, list[np.ndarray]] = {}
    unavailable: dict[str, str] = {}
    for name in names:
        step(name)
        if name == "float" and twin is None:
            continue
        where = info.path if name != "float" else twin[1].path
        try:
            if name == "float":  # the float twin on the int8 inputs, dequantised exactly
                xs = [dequantize(a, spec) for a, spec in zip(inputs.arrays, info.inputs)]
                refs[name] = _outputs("optimized", twin[0], where, xs)
            else:
                refs[name] = _outputs(name, model, where, inputs.arrays)
        except (ModelError, ConfigError) as e:  # UnsupportedModel and InterpreterCrashed are ModelErrors
            unavailable[name] = reason(e, where)
    return refs, unavailable
