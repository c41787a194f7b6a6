"""Input sets: the exact int8 bytes every target gets, and their float twins.

Arrays are [N, *shape[1:]] for a model input of shape [1, ...] (one sample per row).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .drivers.base import TensorSpec
from .errors import InputError
from .results import load_arrays

FLOAT_RANGE = 4.0  # random float inputs (models that start with QUANTIZE)
INT_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


@dataclass
class InputSet:
    """Quantised inputs (one array per input tensor), optional labels, and where they came from."""

    arrays: list[np.ndarray]
    labels: np.ndarray | None
    source: str

    def __len__(self) -> int:
        return len(self.arrays[0]) if self.arrays else 0

    def take(self, start: int, stop: int) -> list[np.ndarray]:
        return [a[start:stop] for a in self.arrays]


def sample_shape(spec: TensorSpec) -> tuple[int, ...]:
    """Shape of one row: the model shape without its leading batch dimension of 1."""
    return spec.shape[1:] if spec.shape and spec.shape[0] == 1 else spec.shape


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


def random_inputs(specs: Sequence[TensorSpec], n: int, seed: int) -> InputSet:
    """Uniform over each input's quantised range (float inputs: uniform in ±FLOAT_RANGE);
    the same seed gives the same bytes everywhere."""
    rng = np.random.default_rng(seed)
    arrays = []
    for s in specs:
        shape = (n, *sample_shape(s))
        if s.dtype == "float32":
            arrays.append(rng.uniform(-FLOAT_RANGE, FLOAT_RANGE, size=shape).astype(np.float32))
            continue
        lo, hi = INT_RANGES.get(s.dtype, (None, None))
        if lo is None:
            raise InputError(f"input {s.name!r} is {s.dtype}: random inputs need an int8/int16/float32 input")
        arrays.append(rng.integers(lo, hi + 1, size=shape, dtype=np.int64).astype(s.dtype))
    return InputSet(arrays, None, f"random(seed={seed})")


def _fit(x: np.ndarray, spec: TensorSpec, where: str) -> np.ndarray:
    """Reshape to [N, *sample] and quantise float data; int data must already be the input's dtype."""
    row = sample_shape(spec)
    size = int(np.prod(row, dtype=np.int64))
    if x.size % max(size, 1) or x.ndim == 0:
        raise InputError(f"{where}: array of shape {x.shape} does not hold whole samples of shape {row} "
                         f"for input {spec.name!r}")
    x = x.reshape((-1, *row))
    if spec.dtype == "float32":
        return x.astype(np.float32)
    if np.issubdtype(x.dtype, np.floating):
        return quantize(x, spec)
    if x.dtype != np.dtype(spec.dtype):
        lo, hi = INT_RANGES[spec.dtype]
        if x.min() < lo or x.max() > hi:
            raise InputError(f"{where}: values {x.min()}..{x.max()} do not fit input {spec.name!r} ({spec.dtype})")
        x = x.astype(spec.dtype)
    return x


def file_inputs(path: Path, specs: Sequence[TensorSpec], n: int | None) -> InputSet:
    """Inputs from .npy (one input) or .npz (keys x / x_int8 / inputs_0…, optional y labels)."""
    data = load_arrays(path, InputError, "input file not found")
    if len(specs) == 1:
        # x_int8 holds int8 codes: only an int8 input takes them (an int16 one quantises x itself)
        key = "x_int8" if "x_int8" in data and specs[0].dtype == "int8" else "x" if "x" in data else "inputs_0"
        keys = [key]
    else:
        keys = [f"inputs_{i}" for i in range(len(specs))]
    missing = [k for k in keys if k not in data]
    if missing:
        raise InputError(f"{path}: no array {missing[0]!r} (has {', '.join(sorted(data)) or 'nothing'})")
    arrays = [_fit(data[k], s, str(path)) for k, s in zip(keys, specs)]
    labels = data.get("y")
    count = len(arrays[0])
    if any(len(a) != count for a in arrays):
        raise InputError(f"{path}: the input arrays hold different numbers of samples")
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != count:
            raise InputError(f"{path}: {len(labels)} labels for {count} samples")
    if n is not None:
        arrays = [a[:n] for a in arrays]
        labels = None if labels is None else labels[:n]
    return InputSet(arrays, labels, str(path))
