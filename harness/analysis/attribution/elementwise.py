"""ADD, MUL, QUANTIZE, DEQUANTIZE and MEAN replayed in numpy under an arithmetic variant.

ADD (TFLite/TFLM): both inputs are moved to a shared scale 2*max(s1, s2) with 20 bits of
headroom, each with a multiplier < 1, summed, and requantised to the output: three
requantisations per element. XNNPACK instead scales both inputs by 21-bit fixed-point
multipliers into one sum and shifts once (`requant="xnnpack"`); `requant="float"` is the exact
value rounded once."""

from __future__ import annotations

import numpy as np

from . import fixedpoint as fx
from .arith import Arith, Undefined, act_range, finish, requantize
from .graph import Op


def _mbqm(a: Arith, x: np.ndarray, real: float) -> np.ndarray:
    return requantize(a, x, [real])


def _broadcast(op: Op, xs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    a = xs[0].reshape(op.inputs[0].shape).astype(np.int64) - op.inputs[0].zp
    b = xs[1].reshape(op.inputs[1].shape).astype(np.int64) - op.inputs[1].zp
    return np.broadcast_arrays(a, b)


def add(a: Arith, op: Op, xs: list[np.ndarray]) -> np.ndarray:
    t1, t2, y = op.inputs[0], op.inputs[1], op.outputs[0]
    x1, x2 = _broadcast(op, xs)
    lo, hi = act_range(int(op.opt(0, "b", 0)), y.scale, y.zp)
    if a.requant == "float":
        v = (x1 * np.float64(t1.scale) + x2 * np.float64(t2.scale)) / np.float64(y.scale)
        return finish(fx.round_float(v, a.rounding), y.zp, lo, hi).reshape(y.shape)
    if a.requant == "xnnpack":
        return finish(_xnnpack_add(x1, x2, t1.scale, t2.scale, y.scale), y.zp, lo, hi).reshape(y.shape)
    twice_max = 2.0 * max(t1.scale, t2.scale)
    if fx.quantize_multiplier(twice_max / ((1 << 20) * float(y.scale)))[1] > 0:
        raise Undefined("ADD output scale too small for its inputs: the reference's rounding shift would be "
                         "negative (undefined in C), so there is no arithmetic to reproduce")
    if a.form == "neon":
        return finish(_neon_add(x1, x2, t1.scale / twice_max, t2.scale / twice_max,
                                twice_max / ((1 << 20) * float(y.scale))), y.zp, lo, hi).reshape(y.shape)
    s1 = _mbqm(a, x1 << 20, t1.scale / twice_max)
    s2 = _mbqm(a, x2 << 20, t2.scale / twice_max)
    total = fx.wrap32(s1 + s2)
    out = _mbqm(a, total, twice_max / ((1 << 20) * float(y.scale)))
    return finish(out, y.zp, lo, hi).reshape(y.shape)


def _xnnpack_add(x1: np.ndarray, x2: np.ndarray, s1: float, s2: float, so: float) -> np.ndarray:
    """XNNPACK qs8 vadd: float32 ratios, the larger one's exponent sets shift = 20 - e, both become
    lrintf(ratio * 2^shift), and acc = x1*m1 + x2*m2 + 2^(shift-1) is shifted once (floor)."""
    r1, r2 = np.float32(s1) / np.float32(so), np.float32(s2) / np.float32(so)
    e = int(np.frexp(max(r1, r2))[1]) - 1
    shift = 20 - e
    m1 = int(np.rint(np.float32(np.ldexp(r1, shift))))
    m2 = int(np.rint(np.float32(np.ldexp(r2, shift))))
    return (x1 * m1 + x2 * m2 + (1 << (shift - 1))) >> shift


def _neon_add(x1: np.ndarray, x2: np.ndarray, r1: float, r2: float, ro: float) -> np.ndarray:
    """TFLite's NEON ADD: each input shifted left by 20 + its (negative) shift, then VQRDMULH by
    its multiplier (one rounding instead of SRDHM and a rounding shift); the sum as TFLM."""
    (m1, e1), (m2, e2), (mo, eo) = (fx.quantize_multiplier(r) for r in (r1, r2, ro))
    s1 = fx.srdhm(fx.wrap32(x1 << (20 + e1)), m1)
    s2 = fx.srdhm(fx.wrap32(x2 << (20 + e2)), m2)
    return fx.rounding_shift(fx.srdhm(fx.wrap32(s1 + s2), mo), -eo)


def mul(a: Arith, op: Op, xs: list[np.ndarray]) -> np.ndarray:
    t1, t2, y = op.inputs[0], op.inputs[1], op.outputs[0]
    x1, x2 = _broadcast(op, xs)
    lo, hi = act_range(int(op.opt(0, "b", 0)), y.scale, y.zp)
    real = float(np.float64(t1.scale) * np.float64(t2.scale) / np.float64(y.scale))
    if a.requant in ("float", "xnnpack"):
        v = fx.requant_float(x1 * x2, np.float32(t1.scale) * np.float32(t2.scale) / np.float32(y.scale),
                             a.rounding if a.rounding in ("away", "even") else "even")
        return finish(v, y.zp, lo, hi).reshape(y.shape)
    return finish(_mbqm(a, x1 * x2, real), y.zp, lo, hi).reshape(y.shape)


def quantize(a: Arith, op: Op, xs: list[np.ndarray]) -> np.ndarray:
    """float32 -> int8 (divide by the scale, round) or int8 -> int8 (requantise)."""
    t, y = op.inputs[0], op.outputs[0]
    x = xs[0].reshape(-1)
    if t.dtype == "float32":
        xf = x.astype(np.float32)
        v = xf / np.float32(y.scale) if a.form != "reciprocal" else xf * (np.float32(1.0) / np.float32(y.scale))
        r = fx.round_float(v, "even" if a.rounding == "even" else "away")
        return finish(np.clip(r, -1000, 1000), y.zp, -128, 127).reshape(y.shape)
    real = float(np.float64(t.scale) / np.float64(y.scale))
    return finish(_mbqm(a, x.astype(np.int64) - t.zp, real), y.zp, -128, 127).reshape(y.shape)


def dequantize(a: Arith, op: Op, xs: list[np.ndarray]) -> np.ndarray:
    """scale * (q - zp) as a float32 product (TFLM); `form="double"` rounds a double product."""
    t = op.inputs[0]
    q = xs[0].astype(np.int64) - t.zp
    if a.form == "double":
        return (np.float64(t.scale) * q).astype(np.float32).reshape(op.outputs[0].shape)
    return (np.float32(t.scale) * q.astype(np.float32)).reshape(op.outputs[0].shape)


def _mean_sums(op: Op, x: np.ndarray) -> tuple[np.ndarray, int]:
    t = op.inputs[0]
    axes = tuple(sorted({int(v) % len(t.shape) for v in op.inputs[1].data.reshape(-1)}))
    sums = x.reshape(t.shape).astype(np.int64).sum(axis=axes)
    n = int(np.prod([t.shape[i] for i in axes]))
    return sums, n


def mean(a: Arith, op: Op, xs: list[np.ndarray]) -> np.ndarray:
    """TFLM: sum - n*zp, one requantisation whose multiplier holds 1/n (integer division after a
    shift by floor(log2 n)). `form="float"`: TFLite's reference float mean; `form="hw"`:
    TFLite's 4-D H,W mean (1/n in the multiplier, the zero point as a float-rounded bias)."""
    t, y = op.inputs[0], op.outputs[0]
    sums, n = _mean_sums(op, xs[0])
    if a.form == "float":
        scale = np.float32(t.scale) / np.float32(y.scale)
        v = sums.astype(np.float32) / np.float32(n) * scale + np.float32(-t.zp) * scale
        return finish(np.clip(fx.round_float(v, a.rounding), -1000, 1000), y.zp, -128, 127).reshape(y.shape)
    if a.form == "hw":
        tmp = np.float32(t.zp) * np.float32(t.scale) / np.float32(y.scale)
        bias = y.zp - int(fx.round_float(tmp, "away"))
        real = float(np.float32(t.scale) / (np.float32(n) * np.float32(y.scale)))
        return finish(requantize(a, sums, [real]), bias, -128, 127).reshape(y.shape)
    m, s = fx.quantize_multiplier(float(np.float64(t.scale) / np.float64(y.scale)))
    k = min(n.bit_length() - 1, 31 + s)
    v = sums - t.zp * n
    mm, ss = ((m << k) // n), s - k
    if a.requant == "single":
        out = fx.requant_single(fx.wrap32(v), mm, ss, a.rounding)
    else:
        out = fx.requant_double(fx.wrap32(v), mm, ss, a.rounding, a.high_mul)
    return finish(out, y.zp, -128, 127).reshape(y.shape)
