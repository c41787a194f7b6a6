"""Input sets: the exact int8 bytes every target gets, and their float twins.

Arrays are [N, *shape[1:]] for a model input of shape [1, ...] (one sample per row). Random inputs
are made on demand, batch by batch (take(start, stop)), so memory does not grow with N; the bytes
are the ones one `default_rng(seed)` draw of all N rows per input, input after input, gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..core.tensors import INT_RANGES, TensorSpec, quantize
from ..errors import InputError
from ..results.files import load_arrays

FLOAT_RANGE = 4.0  # random float inputs (models that start with QUANTIZE)
MAX_SAMPLE_BYTES = 64 << 20  # one sample of one tensor; larger is a corrupt shape, not a model
CHUNK_BYTES = 16 << 20  # input bytes handled at once where a whole set is walked (references, merge)
_PIECE = 1 << 20  # values drawn per numpy call inside one take()


class InputSet:
    """Quantised inputs (one array per input tensor), optional labels, and where they came from."""

    def __init__(self, arrays: list[np.ndarray], labels: np.ndarray | None, source: str) -> None:
        self.arrays, self.labels, self.source = arrays, labels, source

    def __len__(self) -> int:
        return len(self.arrays[0]) if self.arrays else 0

    def take(self, start: int, stop: int) -> list[np.ndarray]:
        return [a[start:stop] for a in self.arrays]

    def sample_bytes(self) -> int:
        return sum(a[0].nbytes for a in self.take(0, 1))

    def chunks(self) -> Iterator[tuple[int, int]]:
        """(start, stop) ranges of about CHUNK_BYTES of inputs each, covering the whole set."""
        step = max(1, CHUNK_BYTES // max(1, self.sample_bytes()))
        for start in range(0, len(self), step):
            yield start, min(len(self), start + step)


def _elements(spec: TensorSpec) -> int:
    return int(np.prod(spec.sample_shape, dtype=np.int64))


def sample_nbytes(spec: TensorSpec) -> int:
    """Bytes of one sample of a tensor (a dtype numpy does not know counts one byte per element)."""
    return _elements(spec) * (np.dtype(spec.dtype).itemsize if spec.dtype in np.sctypeDict else 1)


def check_tensors(specs: Sequence[TensorSpec], what: str, where: str) -> None:
    """Every tensor has a shape we can hold: dims >= 1, at most MAX_SAMPLE_BYTES per sample."""
    if not specs:
        raise InputError(f"{where}: the model has no {what} tensors")
    for s in specs:
        if any(d < 1 for d in s.shape):
            raise InputError(f"{where}: {what} tensor {s.name!r} has shape {list(s.shape)}; every dimension must "
                             "be >= 1 (dynamic or corrupt shapes are not supported)")
        size = sample_nbytes(s)
        if len(s.shape) > 8 or size > MAX_SAMPLE_BYTES:
            raise InputError(f"{where}: {what} tensor {s.name!r} has shape {list(s.shape)} "
                             f"({size} bytes per sample, limit {MAX_SAMPLE_BYTES}); the model is corrupt or too big")


# ---- random inputs, made batch by batch ----
# numpy fills `rng.integers(lo, hi + 1, size, dtype=int64)` with one 32-bit half of a PCG64 draw per
# value (Lemire's method never rejects for the power-of-two ranges of INT_RANGES), low half first,
# the high half buffered for the next value; `rng.uniform` takes one whole 64-bit draw per value and
# leaves that buffer alone. _Cursor follows this so any row range can be drawn on its own.


@dataclass(frozen=True)
class _Cursor:
    """A place in default_rng(seed)'s stream: 64-bit draws used, and the draw whose high half is buffered."""

    draws: int = 0
    half: int | None = None

    def after(self, spec: TensorSpec, values: int) -> "_Cursor":
        if spec.dtype == "float32":
            return _Cursor(self.draws + values, self.half)
        return self.skip32(values)

    def skip32(self, values: int) -> "_Cursor":
        half = self.half
        if half is not None and values:
            values, half = values - 1, None
        draws = self.draws + (values + 1) // 2
        return _Cursor(draws, draws - 1 if values % 2 else half)

    def generator(self, seed: int) -> np.random.Generator:
        """A generator whose next values are the ones this place in the stream gives."""
        bits = np.random.PCG64(seed)
        if self.half is not None:
            bits.advance(self.half)
            upper = int(bits.random_raw()) >> 32
            bits = np.random.PCG64(seed)
        bits.advance(self.draws)
        if self.half is not None:
            bits.state = {**bits.state, "has_uint32": 1, "uinteger": upper}
        return np.random.Generator(bits)


class RandomInputs(InputSet):
    """Uniform over each input's quantised range (float inputs: uniform in ±FLOAT_RANGE), made on demand."""

    def __init__(self, specs: Sequence[TensorSpec], n: int, seed: int) -> None:
        self.specs, self.n, self.seed = tuple(specs), n, seed
        self.labels, self.source = None, f"random(seed={seed})"
        self._starts, cur = [], _Cursor()
        for s in self.specs:
            if s.dtype != "float32" and s.dtype not in INT_RANGES:
                raise InputError(f"input {s.name!r} is {s.dtype}: random inputs need an int8/int16/float32 input")
            self._starts.append(cur)
            cur = cur.after(s, n * _elements(s))

    def __len__(self) -> int:
        return self.n

    @property
    def arrays(self) -> list[np.ndarray]:  # type: ignore[override]
        """The whole set at once: memory grows with N; for small sets and tests."""
        return self.take(0, self.n)

    def take(self, start: int, stop: int) -> list[np.ndarray]:
        start, stop = max(0, start), min(self.n, stop)
        return [self._draw(s, c, start, max(start, stop)) for s, c in zip(self.specs, self._starts)]

    def _draw(self, spec: TensorSpec, cur: _Cursor, start: int, stop: int) -> np.ndarray:
        row = spec.sample_shape
        size = _elements(spec)
        skip = start * size
        cur = _Cursor(cur.draws + skip, cur.half) if spec.dtype == "float32" else cur.skip32(skip)
        rng = cur.generator(self.seed)
        out = np.empty((stop - start) * size, dtype=spec.dtype)
        for p in range(0, len(out), _PIECE):
            k = min(_PIECE, len(out) - p)
            if spec.dtype == "float32":
                out[p:p + k] = rng.uniform(-FLOAT_RANGE, FLOAT_RANGE, size=k)
            else:
                lo, hi = INT_RANGES[spec.dtype]
                out[p:p + k] = rng.integers(lo, hi + 1, size=k, dtype=np.int64)
        return out.reshape((stop - start, *row))


def random_inputs(specs: Sequence[TensorSpec], n: int, seed: int) -> InputSet:
    """Seeded random inputs; the same seed gives the same bytes everywhere, whatever the batch size."""
    check_tensors(specs, "input", "model")
    return RandomInputs(specs, n, seed)


# ---- inputs from files ----


def _squeezed(shape: Sequence[int]) -> tuple[int, ...]:
    return tuple(d for d in shape if d != 1)


def _check_values(x: np.ndarray, key: str, where: str) -> None:
    """Numbers only, finite, at least one sample: what can be quantised without losing a word."""
    kind = x.dtype.kind
    if kind == "c":
        raise InputError(f"{where}: {key!r} holds complex values; the imaginary part would be dropped — "
                         "give real numbers")
    if kind not in "iuf":
        what = {"b": "booleans", "U": "strings", "S": "bytes", "O": "objects"}.get(kind, f"{x.dtype} values")
        raise InputError(f"{where}: {key!r} holds {what}; expected int or float numbers")
    if x.ndim == 0 or len(x) == 0:
        raise InputError(f"{where}: {key!r} holds no samples (shape {x.shape})")
    if kind == "f":
        bad = ~np.isfinite(x)
        if bad.any():
            first = int(np.argwhere(bad.reshape(len(x), -1))[0][0])
            raise InputError(f"{where}: {key!r} holds {int(bad.sum())} NaN/infinite values (first in sample "
                             f"{first}); they cannot be quantised — clean the data")


def _fit(x: np.ndarray, spec: TensorSpec, key: str, where: str) -> np.ndarray:
    """[N, *sample] of the input's dtype; only size-1 axes may differ from the model's sample shape."""
    _check_values(x, key, where)
    row = spec.sample_shape
    if _squeezed(x.shape[1:]) != _squeezed(row):
        raise InputError(f"{where}: {key!r} has samples of shape {list(x.shape[1:])}, input {spec.name!r} takes "
                         f"{list(row)}; reshape the data yourself if it really is that layout")
    x = x.reshape((len(x), *row))
    if spec.dtype == "float32":
        return x.astype(np.float32)
    if x.dtype.kind == "f":
        return quantize(x, spec)
    if x.dtype != np.dtype(spec.dtype):
        lo, hi = INT_RANGES[spec.dtype]
        if x.min() < lo or x.max() > hi:
            raise InputError(f"{where}: {key!r} values {x.min()}..{x.max()} do not fit input {spec.name!r} "
                             f"({spec.dtype})")
        x = x.astype(spec.dtype)
    return x


def _labels(y: np.ndarray, count: int, where: str) -> np.ndarray:
    """Integer class labels, one per sample."""
    y = np.asarray(y)
    if y.dtype.kind not in "iuf":
        raise InputError(f"{where}: 'y' holds {y.dtype} values; labels must be integer class indices")
    y = y.reshape(-1)
    if len(y) != count:
        raise InputError(f"{where}: {len(y)} labels for {count} samples")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(f"{where}: 'y' label {y[i]!r} at sample {i} is not a whole number; labels must be "
                             "integer class indices")
        y = y.astype(np.int64)
    if (y < 0).any():
        i = int(np.argmax(y < 0))
        raise InputError(f"{where}: 'y' label {int(y[i])} at sample {i} is negative; labels are class indices")
    return y


def file_inputs(path: Path, specs: Sequence[TensorSpec], n: int | None) -> InputSet:
    """Inputs from .npy (one input) or .npz (keys x / x_int8 / inputs_0…, optional y labels), or a
    folder in the MLPerf Tiny runner's layout (drivers/eembc_dataset.py)."""
    check_tensors(specs, "input", "model")
    if Path(path).is_dir():
        from .inputs_runner import runner_inputs

        return runner_inputs(Path(path), specs, n)
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
    arrays = [_fit(data[k], s, k, str(path)) for k, s in zip(keys, specs)]
    count = len(arrays[0])
    if any(len(a) != count for a in arrays):
        raise InputError(f"{path}: the input arrays hold different numbers of samples")
    labels = None if data.get("y") is None else _labels(data["y"], count, str(path))
    if n is not None:
        arrays = [a[:n] for a in arrays]
        labels = None if labels is None else labels[:n]
    return InputSet(arrays, labels, str(path))
