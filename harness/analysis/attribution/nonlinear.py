"""SOFTMAX and LOGISTIC (int8 in, int8 out with scale 1/256, zero point -128) replayed in numpy.

`exp="fixed"`: TFLM's gemmlowp fixed point (exp on [-1/4, 0) by a Taylor series around -1/8
and exp(-2^k) factors, reciprocal by Newton-Raphson in Q2.29), vectorised from the same
published algorithms as our firmware. `exp="lut"`: TFLite's optimised x86 kernels — a float
table expf(beta*s*(x - max)), a float32 sum, probabilities rounded half away (SOFTMAX), or a
256-entry table of round(sigmoid(x)*256) - 128 built in float (LOGISTIC). `exp="lut16"`:
TFLite's aarch64 SOFTMAX (uint16 table, integer sum, one requantisation). `exp="float"`: the
exact value rounded once."""

from __future__ import annotations

import numpy as np

from . import fixedpoint as fx
from .arith import Arith
from .graph import Op

I32_MAX = fx.I32_MAX


def _sat_shl(x: np.ndarray, e: int) -> np.ndarray:
    thr = (1 << (31 - e)) - 1
    return np.where(x > thr, I32_MAX, np.where(x < -thr, fx.I32_MIN, fx.wrap32(x << e)))


def _exp_quarter(a: np.ndarray) -> np.ndarray:
    """exp(a) for a in [-1/4, 0) in Q0.31."""
    c_exp_m1_8, c_1_3 = 1895147668, 715827883
    x = fx.wrap32(a + (1 << 28))
    x2 = fx.srdhm(x, x)
    x3 = fx.srdhm(x2, x)
    x4 = fx.srdhm(x2, x2)
    x4_4 = fx.rounding_shift(x4, 2)
    poly = fx.rounding_shift(fx.wrap32(fx.srdhm(fx.wrap32(x4_4 + x3), c_1_3) + x2), 1)
    return fx.wrap32(c_exp_m1_8 + fx.srdhm(c_exp_m1_8, fx.wrap32(x + poly)))


def exp_on_negative(a: np.ndarray, int_bits: int) -> np.ndarray:
    """exp(a) for a <= 0 in Q(int_bits), result in Q0.31."""
    pow2 = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)  # exp(-2^k), k=-2..4
    frac_bits = 31 - int_bits
    quarter = 1 << (frac_bits - 2)
    a = np.asarray(a, np.int64)
    a_mod = fx.wrap32((a & (quarter - 1)) - quarter)
    result = _exp_quarter(_sat_shl(a_mod, int_bits) if int_bits else a_mod)
    rem = fx.wrap32(a_mod - a)
    for k in range(-2, 5):
        if int_bits > k:
            hit = (rem & (1 << (frac_bits + k))) != 0
            result = np.where(hit, fx.srdhm(result, pow2[k + 2]), result)
    if int_bits > 5:
        result = np.where(a < -(1 << (36 - int_bits)), 0, result)
    return np.where(a == 0, I32_MAX, result)


def one_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    """1 / (1 + a) for a in [0, 1) in Q0.31, result in Q0.31."""
    s = np.asarray(a, np.int64) + I32_MAX
    half_den = np.where(s >= 0, (s + 1) // 2, -((-s + 1) // 2))
    x = fx.wrap32(1515870810 + fx.srdhm(half_den, -1010580540))
    for _ in range(3):
        one_minus = fx.wrap32((1 << 29) - fx.srdhm(half_den, x))
        x = fx.wrap32(x + _sat_shl(fx.srdhm(x, one_minus), 2))
    return _sat_shl(x, 1)


def _softmax_fixed(op: Op, x: np.ndarray) -> np.ndarray:
    t = op.inputs[0]
    beta = float(op.opt(0, "f", 0.0))
    real = min(float(np.float64(beta) * np.float64(t.scale) * (1 << 26)), 2147483647.0)
    m, s = fx.quantize_multiplier(real)
    diff_min = -(((31 << 26)) >> s)
    diff = x - x.max(axis=-1, keepdims=True)
    ok = diff >= diff_min
    e = exp_on_negative(fx.requant_double(diff, m, s), 5)
    total = np.sum(np.where(ok, fx.rounding_shift(e, 12), 0), axis=-1, keepdims=True)
    headroom = 32 - np.floor(np.log2(np.maximum(total, 1))).astype(np.int64) - 1
    headroom = np.where(total > 0, headroom, 32)
    bits_over_unit = 12 - headroom
    shifted = fx.wrap32((total << (headroom & 31)) - (1 << 31))
    scale = one_over_one_plus_x(shifted)
    v = fx.rounding_shift(fx.srdhm(scale, e), bits_over_unit + 31 - 8) - 128
    return np.where(ok, np.clip(v, -128, 127), -128)


def _softmax_lut(op: Op, x: np.ndarray, kind: str) -> np.ndarray:
    t, y = op.inputs[0], op.outputs[0]
    beta = np.float32(op.opt(0, "f", 0.0))
    d = (x - x.max(axis=-1, keepdims=True)).astype(np.float32)
    if kind == "lut16":
        table = np.floor(np.exp((np.float32(t.scale) * beta * d).astype(np.float64)).astype(np.float32)
                         .astype(np.float64) * 65535 + 0.5).astype(np.int64)
        inv = np.float32(1.0) / (table.sum(axis=-1, keepdims=True).astype(np.float32) * np.float32(y.scale))
        pairs = [fx.quantize_multiplier(float(v)) for v in inv.reshape(-1)]
        m = np.array([p[0] for p in pairs], np.int64).reshape(inv.shape)
        s = np.array([p[1] for p in pairs], np.int64).reshape(inv.shape)
        return np.clip(fx.requant_double(table, m, s) + y.zp, -128, 127)
    e = np.exp((-np.float32(t.scale) * beta * -d).astype(np.float64)).astype(np.float32)
    total = np.add.accumulate(e, axis=-1, dtype=np.float32)[..., -1:]
    inv = np.float32(1.0) / (total * np.float32(y.scale))
    return np.clip(fx.round_float(e * inv, "away") + y.zp, -128, 127)


def softmax(a: Arith, op: Op, xs: list[np.ndarray]) -> np.ndarray:
    t, y = op.inputs[0], op.outputs[0]
    x = xs[0].reshape(-1, t.shape[-1]).astype(np.int64)
    if a.exp == "fixed":
        out = _softmax_fixed(op, x)
    elif a.exp in ("lut", "lut16"):
        out = _softmax_lut(op, x, a.exp)
    else:
        z = float(op.opt(0, "f", 0.0)) * t.scale * (x - x.max(axis=-1, keepdims=True))
        p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
        out = np.clip(fx.round_float(p / y.scale, a.rounding) + y.zp, -128, 127)
    return out.astype(np.int8).reshape(y.shape)


def _logistic_fixed(op: Op, x: np.ndarray) -> np.ndarray:
    t = op.inputs[0]
    q, shift = np.frexp(np.float64(t.scale) * (1 << 27))
    mult = int(np.floor(q * 2147483648.0 + 0.5))
    mult = fx.I32_MIN if mult >= 1 << 31 else mult
    radius = ((15 << 27) >> int(shift))
    v = x - t.zp
    a = fx.requant_double(v, mult, int(shift))
    neg = -np.abs(a)
    pos = one_over_one_plus_x(exp_on_negative(neg, 4))
    q0 = np.where(a > 0, pos, fx.wrap32(I32_MAX - pos))
    q0 = np.where(a == 0, 1 << 30, q0)
    o = np.clip(fx.rounding_shift(q0, 23) - 128, -128, 127)
    return np.where(v <= -radius, -128, np.where(v >= radius, 127, o))


def logistic(a: Arith, op: Op, xs: list[np.ndarray]) -> np.ndarray:
    t, y = op.inputs[0], op.outputs[0]
    x = xs[0].reshape(-1).astype(np.int64)
    if a.exp == "fixed":
        out = _logistic_fixed(op, x)
    elif a.exp == "lut":  # TFLite's LUTPopulate: float32 dequantise, sigmoid, round half away
        deq = np.float32(t.scale) * (x - t.zp).astype(np.float32)
        sig = (1.0 / (1.0 + np.exp(-deq.astype(np.float64)))).astype(np.float32)
        out = np.clip(fx.round_float(sig * (np.float32(1) / np.float32(y.scale)), "away") + y.zp, -128, 127)
    else:
        sig = 1.0 / (1.0 + np.exp(-np.float64(t.scale) * (x - t.zp)))
        out = np.clip(fx.round_float(sig / y.scale, a.rounding) + y.zp, -128, 127)
    return out.astype(np.int8).reshape(y.shape)
