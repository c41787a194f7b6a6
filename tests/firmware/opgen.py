"""Seeded random single-op models and inputs: the generator behind the engine's bit-exactness
proofs against the TFLM interpreter, reusable by any path that must equal it (the kernels, the
host-side op replay, the QEMU runs).

    case = make_case(1234)                  # seed 1234; its op is OPS[1234 % 16]
    case = make_case(7, "CONV_2D")          # or name the op
    for case in cases(5000): ...            # seeds 0..4999, every op in turn
    want = tflm_run(case.model, case.samples)   # TFLM's outputs per sample (or TflmRefused)

A case is one .tflite with one op (tests/firmware/tflite_build.py, no TensorFlow), its random
parameters (`params`, for messages) and several input samples: uniform random, near the zero
point, and the edge patterns (all -128, all 127, alternating, all at the zero point). The same
(seed, op) always gives the same bytes. What each op draws is in opgen_ops.py.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from tests.firmware.opgen_ops import BUILDERS, Draw
from tests.firmware.opgen_s16_ops import BUILDERS16

OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD", "MUL",
       "RESHAPE", "SOFTMAX", "QUANTIZE", "DEQUANTIZE", "LOGISTIC", "PAD", "PADV2", "MEAN", "CONCATENATION")
# The ops with DSP kernels (SIMD-MAC, table ADD, SXTAB16 pooling; Thumb-2 asm) besides their plain C
# ones; the first three have Helium (MVE) kernels on Cortex-M55 too.
DSP_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "AVERAGE_POOL_2D")
EDGES = ("min", "max", "alternating", "zero_point")
# int16 activations with int8 weights (16x8): the ops above on int16, and TANH (opgen_s16*.py).
OPS16 = tuple(BUILDERS16)


class TflmRefused(RuntimeError):
    """The TFLM interpreter would not prepare (or run) the model: the case proves nothing."""


@dataclass
class Case:
    op: str
    seed: int
    params: dict
    model: bytes
    samples: list[list[np.ndarray]] = field(default_factory=list)  # samples[k][i]: graph input i

    def describe(self) -> str:
        return f"{self.op} seed {self.seed}: " + ", ".join(f"{k}={v}" for k, v in self.params.items())

    def save(self, folder: Path) -> Path:
        """Model + samples + params as one .npz that Case.load (and the regression test) replays."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.op.lower()}-{self.seed}.npz"
        arrays = {f"s{k}_i{i}": x for k, sample in enumerate(self.samples) for i, x in enumerate(sample)}
        meta = json.dumps({"op": self.op, "seed": self.seed, "params": self.params,
                           "samples": len(self.samples), "inputs": len(self.samples[0]) if self.samples else 0})
        np.savez(path, model=np.frombuffer(self.model, np.uint8), meta=np.array(meta), **arrays)
        return path

    @classmethod
    def load(cls, path: Path) -> "Case":
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            samples = [[z[f"s{k}_i{i}"] for i in range(meta["inputs"])] for k in range(meta["samples"])]
            return cls(meta["op"], meta["seed"], meta["params"], z["model"].tobytes(), samples)


def make_case(seed: int, op: str | None = None) -> Case:
    """The case of `seed` (its op: `op`, or OPS[seed % 16]); deterministic."""
    op = op or OPS[seed % len(OPS)]
    if op not in BUILDERS and op not in BUILDERS16:
        raise ValueError(f"unknown op {op!r}; the generator knows {', '.join(OPS + OPS16)}")
    draw = Draw(np.random.default_rng([seed, (OPS + OPS16).index(op)]))
    m = (BUILDERS.get(op) or BUILDERS16[op])(draw)
    specs = [m.tensors[t] for t in m.inputs]
    samples = [[_sample(draw.rng, t, kind) for t in specs] for kind in ("uniform", "uniform", "near_zp", *EDGES)]
    return Case(op, seed, dict(draw.params), m.build(), samples)


def cases(n: int, start: int = 0, ops: tuple[str, ...] = OPS, stride: int = 1) -> Iterator[Case]:
    """Seeds start, start + stride, ... (n of them); seed s has op ops[s % len(ops)]."""
    for k in range(n):
        s = start + k * stride
        yield make_case(s, ops[s % len(ops)])


def _sample(rng: np.random.Generator, t, kind: str) -> np.ndarray:
    if t.dtype == np.float32:
        return _float_sample(rng, t.shape, kind)
    zp = t.zps[0] if t.zps else 0
    if t.dtype == np.int16:
        return _int16_sample(rng, t.shape, kind, zp)
    if kind == "uniform":
        return rng.integers(-128, 128, t.shape, dtype=np.int8)
    if kind == "near_zp":
        return np.clip(zp + rng.integers(-3, 4, t.shape), -128, 127).astype(np.int8)
    if kind == "alternating":
        return np.resize(np.array([-128, 127], np.int8), t.shape)
    return np.full(t.shape, {"min": -128, "max": 127, "zero_point": zp}[kind], np.int8)


def _int16_sample(rng: np.random.Generator, shape, kind: str, zp: int) -> np.ndarray:
    """int16 inputs: uniform over the whole range or over +-256 (typical activations), near the
    zero point, the edges."""
    if kind == "uniform":
        hi = 32768 if rng.random() < 0.5 else 256
        return rng.integers(-hi, hi, shape).clip(-32768, 32767).astype(np.int16)
    if kind == "near_zp":
        return np.clip(zp + rng.integers(-3, 4, shape), -32768, 32767).astype(np.int16)
    if kind == "alternating":
        return np.resize(np.array([-32768, 32767], np.int16), shape)
    return np.full(shape, {"min": -32768, "max": 32767, "zero_point": zp}[kind], np.int16)


def _float_sample(rng: np.random.Generator, shape, kind: str) -> np.ndarray:
    """QUANTIZE's float input: values in steps of 2^-4..2^2 around 0, half-step ties, and the
    int8 range's edges far outside (|x / scale| stays < 2^30, where TFLM's cast is defined)."""
    step = 2.0 ** rng.integers(-4, 3)
    if kind == "uniform":
        return rng.uniform(-300, 300, shape).astype(np.float32) * np.float32(step)
    if kind == "near_zp":
        return ((rng.integers(-200, 200, shape) + 0.5) * step).astype(np.float32)
    big = np.float32(step * 1e5)
    return {"min": np.full(shape, -big), "max": np.full(shape, big), "zero_point": np.zeros(shape),
            "alternating": np.resize(np.array([-big, big, -0.0, 0.0]), shape)}[kind].astype(np.float32)


def tflm_run(model: bytes, samples: list[list[np.ndarray]], arena_size: int | None = None) -> list[list[np.ndarray]]:
    """TFLM's outputs for each sample (outputs[k][j]: sample k, graph output j). Raises
    TflmRefused when the interpreter does not accept the model or fails to invoke it.
    arena_size: TFLM's arena (default: enough for a single-op case)."""
    from tflite_micro.python.tflite_micro import runtime as tflm

    with _StderrTail() as log:
        try:
            oracle = tflm.Interpreter.from_bytes(model, arena_size=arena_size or _arena_size(model, samples))
        except Exception as e:  # the binding says "failed to allocate"; TFLM's reason went to stderr
            raise TflmRefused(log.text() or _first_line(e)) from None
    outs, n_out = [], _num_outputs(model)
    for sample in samples:
        for i, x in enumerate(sample):
            oracle.set_input(x, i)
        try:
            oracle.invoke()
        except Exception as e:
            raise TflmRefused(f"invoke: {_first_line(e)}") from None
        outs.append([np.array(oracle.get_output(j)) for j in range(n_out)])
    return outs


def _num_outputs(model: bytes) -> int:
    """SubGraph 0's outputs vector length (asking the interpreter past the end logs errors)."""
    from tests.firmware.fbutil import root, vector, vector_tables

    return vector(model, vector_tables(model, root(model), 2)[0], 2)[1]


class _StderrTail:
    """Captures what C++ code writes to fd 2 while active (TFLM logs its refusals there)."""

    def __enter__(self):
        import tempfile

        sys.stderr.flush()
        self._file = tempfile.TemporaryFile()
        self._saved = os.dup(2)
        os.dup2(self._file.fileno(), 2)
        return self

    def text(self) -> str:
        self._file.seek(0)
        lines = self._file.read().decode(errors="replace").strip().splitlines()
        return " | ".join(line.strip() for line in lines[:2])

    def __exit__(self, *exc) -> None:
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._file.close()


def _arena_size(model: bytes, samples) -> int:
    io = sum(x.nbytes for x in samples[0]) if samples else 0
    return max(1 << 20, 8 * io + 2 * len(model))


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return " | ".join(line.strip() for line in text.splitlines()[:3])


def load_regressions(folder: Path) -> list[Path]:
    """The saved failing cases (Case.save) in `folder`, sorted; [] when there are none."""
    return sorted(folder.glob("*.npz")) if folder.is_dir() else []
