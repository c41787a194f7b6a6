"""One model tensor as every layer sees it (TensorSpec), the sample-shape rule and the exact
quantisation arithmetic: facts the model reader, the drivers, the input sets and the analysis share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

INT_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


def sample_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """The shape of one sample (one row of a batch): the model shape without its leading batch
    dimension of 1. Every array of N samples is [N, *sample_shape]."""
    shape = tuple(int(d) for d in shape)
    return shape[1:] if shape and shape[0] == 1 else shape


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output as the device sees it."""

    name: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name: "int8", "float32", ...
    scale: float = 0.0
    zero_point: int = 0

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return sample_shape(self.shape)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize



def quantize(x: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """float → integer with the tensor's scale/zero point, rounding half away from zero like TFLite."""
    lo, hi = INT_RANGES[spec.dtype]
    v = np.asarray(x, dtype=np.float64) / spec.scale
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + spec.zero_point
    return np.clip(q, lo, hi).astype(spec.dtype)


def _exact_in_f32(scale: float) -> bool:
    return float(np.float32(scale)) == scale


def dequantize(q: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """Exact (q − zp)·scale, computed in float64 and given to float models as float32.

    A float tensor (a model ending in DEQUANTIZE) is already real-valued and returned as it is."""
    if spec.dtype in ("float32", "float64"):
        return np.asarray(q, dtype=np.float32)
    # int16 − zp is exact, and float32(q − zp) × float64(scale) is rounded once to float32.
    return (np.asarray(q, dtype=np.int32) - spec.zero_point).astype(np.float32) * np.float32(spec.scale) \
        if _exact_in_f32(spec.scale) else \
        ((np.asarray(q, dtype=np.float64) - spec.zero_point) * spec.scale).astype(np.float32)
