"""Whole models against TFLM, thousands of inputs each, on every native build: the worker side
of test_proof_models.py. Input k of a model is the same whatever chunk runs it (seeded by the
model's name and k), so the work splits over processes freely. Edge inputs come first: every
graph input all -128, all 127, alternating -128/127 both ways, all at its zero point."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from tests.firmware.fbutil import field, root, vector, vector_tables
from tests.firmware.fwbuild import PROJECT_MODELS, SHARED_MODELS

INT8, FLOAT32, INT16 = 9, 0, 7
EDGE_INPUTS = 5
_CACHE: dict = {}


def io_types(data: bytes) -> list[int]:
    """TensorType of every graph input and output of subgraph 0."""
    sg = vector_tables(data, root(data), 2)[0]
    tensors = vector_tables(data, sg, 0)
    types = []
    for fid in (1, 2):
        start, n = vector(data, sg, fid)
        for i in range(n):
            pos = field(data, tensors[int.from_bytes(data[start + 4 * i:start + 4 * i + 4], "little")], 1)
            types.append(data[pos] if pos is not None else FLOAT32)
    return types


def is_int8_model(path: Path) -> bool:
    """An int8 model: one of its graph inputs or outputs is int8 (float twins have none)."""
    return INT8 in io_types(path.read_bytes())


def is_quantized_model(data: bytes) -> bool:
    """An int8 or int16x8 model (graph inputs or outputs int8 or int16)."""
    return bool({INT8, INT16} & set(io_types(data)))


def int8_models() -> list[Path]:
    """Every int8 model under models/ and ../shared/models (when present), sorted."""
    found = sorted(PROJECT_MODELS.rglob("*.tflite")) + sorted(SHARED_MODELS.rglob("*.tflite"))
    return [p for p in found if is_int8_model(p)]


def model_id(p: Path) -> str:
    """folder/stem, e.g. mlperf_tiny/ad01_int8 (test ids, messages)."""
    return f"{p.parent.name}/{p.stem}"


def model_input(info: list, name: str, k: int) -> list[np.ndarray]:
    """Input k of model `name`; info: (shape, dtype, scale, zero point) per graph input."""
    if k < EDGE_INPUTS:
        return [_edge(shape, dtype, scale, zp, k) for shape, dtype, scale, zp in info]
    rng = np.random.default_rng([zlib.crc32(name.encode()), k])
    return [rng.uniform(-160, 160, shape).astype(np.float32) * np.float32(scale or 0.05) if dtype == np.float32
            else _random_int(rng, shape, np.dtype(dtype)) for shape, dtype, scale, zp in info]


def _random_int(rng, shape, dtype: np.dtype) -> np.ndarray:
    """int8: the whole range; int16: the whole range or, half the time, +-2^12 (activations that
    do not saturate the first layers)."""
    info = np.iinfo(dtype)
    hi = info.max + 1 if dtype.itemsize == 1 or rng.random() < 0.5 else 4096
    return rng.integers(max(-hi, info.min), hi, shape, dtype=dtype)


def _edge(shape, dtype, scale, zp, k: int) -> np.ndarray:
    if dtype == np.float32:  # QUANTIZE from float: far below, far above, alternating, 0, ties
        big = 1000.0 * (scale or 1.0)
        pat = [[-big], [big], [-big, big], [big, -big], [0.0]][k]
        if k == 4:
            return ((np.arange(int(np.prod(shape))) - 64.5) * (scale or 1.0)).reshape(shape).astype(np.float32)
        return np.resize(np.array(pat, np.float32), shape)
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    pat = [[lo], [hi], [lo, hi], [hi, lo], [zp]][k]
    return np.resize(np.array(pat, dtype), shape)


def run_chunk(path: str, libs: dict[str, str], start: int, count: int) -> dict:
    """Inputs start..start+count-1 of `path` on TFLM and on each lib; the differences found
    (at most 5 listed) and the number of inputs compared."""
    from tflite_micro.python.tflite_micro import runtime as tflm

    from harness.runtimes.native import NativeEngine

    data = Path(path).read_bytes()
    key = (path, tuple(libs.items()))
    if key not in _CACHE:
        engines = {n: NativeEngine(data, lib=lib) for n, lib in libs.items()}
        _CACHE.clear()
        _CACHE[key] = (tflm.Interpreter.from_bytes(data, arena_size=16 << 20), engines)
    oracle, engines = _CACHE[key]
    first = next(iter(engines.values()))
    info = [(i.shape, i.dtype, i.scale, i.zero_point) for i in map(first.input_info, range(first.num_inputs))]
    first_diffs, bad_inputs = [], 0
    for k in range(start, start + count):
        xs = model_input(info, Path(path).name, k)
        for i, x in enumerate(xs):
            oracle.set_input(x, i)
        oracle.invoke()
        want = [np.array(oracle.get_output(j)) for j in range(first.num_outputs)]
        lines = [f"{Path(path).name} input {k} ({name}) output {j}: {bad.size} bytes differ, first at {bad[0]}"
                 for name, eng in engines.items() for j, (y, ref) in enumerate(zip(eng.run(*xs), want))
                 for bad in [np.flatnonzero(y.view(np.uint8).ravel() != ref.view(np.uint8).ravel())] if bad.size]
        bad_inputs += bool(lines)
        first_diffs += lines[:5 - len(first_diffs)]
    return {"inputs": count, "bad_inputs": bad_inputs, "first": first_diffs}
