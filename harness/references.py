"""Host references for one model and input set: int8 kernels (TFLM oracle, BUILTIN_REF,
optimised) on the same int8 bytes, and the float twin on the exactly dequantised inputs."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .inputs import InputSet, dequantize
from .models import ModelInfo
from .runtimes import Runner

INT8_REFS = ("tflm", "reference", "optimized")


def int8_reference(kind: str, model: bytes, info: ModelInfo, inputs: InputSet) -> tuple[list[np.ndarray], str]:
    """Raw int8 outputs of one host kernel set, and a note when it fell back."""
    r = Runner(kind)
    r.load(model, info.path)
    outs, _ = r.run(inputs.arrays)
    return outs, r.note


def float_reference(model: bytes, finfo: ModelInfo, qinfo: ModelInfo, inputs: InputSet) -> list[np.ndarray]:
    """The float twin's outputs for the dequantised int8 inputs."""
    r = Runner("optimized")
    r.load(model, finfo.path)
    xs = [dequantize(a, spec) for a, spec in zip(inputs.arrays, qinfo.inputs)]
    outs, _ = r.run(xs)
    return outs


def compute(names: Sequence[str], model: bytes, info: ModelInfo, inputs: InputSet,
            twin: tuple[bytes, ModelInfo] | None, step: Callable[[str], None]) -> tuple[dict, dict]:
    """{ref name: [outputs per tensor]} and {ref name: note}; `step` reports progress."""
    refs: dict[str, list[np.ndarray]] = {}
    notes: dict[str, str] = {}
    for name in names:
        step(name)
        if name == "float":
            if twin is not None:
                refs[name] = float_reference(twin[0], twin[1], info, inputs)
            continue
        refs[name], note = int8_reference(name, model, info, inputs)
        if note:
            notes[name] = note
    return refs, notes
