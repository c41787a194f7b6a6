"""Vectorised integer requantisation in numpy (int64 arrays holding int32 values), one function
per published rounding scheme, so that a replay can swap the arithmetic and nothing else.

double rounding (TFLite reference, TFLM, CMSIS-NN default, gemmlowp):
    v = SRDHM(x << left, m) = trunc((a*m + (a*m >= 0 ? 2^30 : 1 - 2^30)) / 2^31)
                            = floor((a*m + 2^30) / 2^31)   (ties toward +inf)
    y = RDivPOT(v, right)   = v / 2^right rounded half away from zero
single rounding (ruy, TFLITE_SINGLE_ROUNDING, CMSIS_NN_USE_SINGLE_ROUNDING):
    y = (x*m + 2^(t-1)) >> t with t = 31 - shift  (half rounds toward +inf)
fp32 (XNNPACK's "fp32" requantisation): y = rint(float32(x) * float32(scale)), half to even.
"""

from __future__ import annotations

import math

import numpy as np

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


def wrap32(v: np.ndarray) -> np.ndarray:
    """Two's-complement int32 wrap of int64 values (what a compiled int32 add/shift gives)."""
    return ((np.asarray(v, np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(Q31 multiplier, shift) with real = m * 2^shift / 2^31, like TFLite's QuantizeMultiplier:
    frexp, round half away from zero, a rounded-up 1.0 renormalised, tiny values flushed to 0."""
    if not real > 0.0:
        return 0, 0
    q, e = math.frexp(real)
    qf = math.floor(q * 2147483648.0 + 0.5)
    if qf == 1 << 31:
        qf //= 2
        e += 1
    if e < -31:
        return 0, 0
    return int(qf), int(e)


def _div_pow2(p: np.ndarray, t, mode: str) -> np.ndarray:
    """p / 2^t (t >= 1, scalar or array) rounded by `mode`: up (half toward +inf), away (half away
    from zero), even (half to even), floor (plain arithmetic shift), trunc (toward zero)."""
    p = np.asarray(p, np.int64)
    t = np.asarray(t, np.int64)
    if mode == "floor":
        return p >> t
    if mode == "trunc":
        return np.where(p < 0, -((-p) >> t), p >> t)
    half = np.left_shift(np.int64(1), t - 1)
    if mode == "up":
        return (p + half) >> t
    if mode == "away":
        return np.where(p < 0, -((-p + half) >> t), (p + half) >> t)
    if mode == "even":
        q = p >> t
        rem = p - (q << t)
        return q + ((rem > half) | ((rem == half) & (q & 1 == 1)))
    raise ValueError(f"unknown rounding mode {mode!r}")


def rounding_shift(x: np.ndarray, right, mode: str = "away") -> np.ndarray:
    """x / 2^right (right >= 0) rounded by `mode`; right = 0 returns x."""
    right = np.asarray(right, np.int64)
    safe = np.maximum(right, 1)
    return np.where(right > 0, _div_pow2(x, safe, mode), np.asarray(x, np.int64))


def srdhm(a: np.ndarray, b) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul: a*b / 2^31 with its nudge (2^30, or 1 - 2^30
    for a negative product) and a truncating divide, which rounds ties toward +inf for both signs
    (= ARM's VQRDMULH); saturates the one overflow, INT32_MIN * INT32_MIN."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    v = _div_pow2(a * b, 31, "up")
    return np.where((a == I32_MIN) & (b == I32_MIN), I32_MAX, v)


def high_mul(a: np.ndarray, b, mode: str = "up") -> np.ndarray:
    """a*b / 2^31 rounded by `mode`: up is SRDHM / VQRDMULH (with the saturating case), floor is
    SQDMULH's truncation, away rounds ties away from zero."""
    if mode == "up":
        return srdhm(a, b)
    return _div_pow2(np.asarray(a, np.int64) * np.asarray(b, np.int64), 31, mode)


def requant_double(x: np.ndarray, mult, shift, shift_mode: str = "away", mul: str = "up") -> np.ndarray:
    """TFLM's MultiplyByQuantizedMultiplier (SRDHM, then a shift rounding ties away from zero);
    other modes give its relatives: a different rounding of the high multiply or of the shift."""
    shift = np.asarray(shift, np.int64)
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    a = wrap32(np.left_shift(np.asarray(x, np.int64), left))
    return rounding_shift(high_mul(a, mult, mul), right, shift_mode)


def requant_single(x: np.ndarray, mult, shift, mode: str = "up") -> np.ndarray:
    """One rounding of the exact 64-bit product: (x*m) / 2^(31-shift), rounded by `mode`."""
    p = np.asarray(x, np.int64) * np.asarray(mult, np.int64)
    return _div_pow2(p, 31 - np.asarray(shift, np.int64), mode)


def requant_float(x: np.ndarray, scale, mode: str = "even", dtype=np.float32) -> np.ndarray:
    """float(x) * scale in `dtype`, rounded half to even (rint, XNNPACK) or half away (round)."""
    v = np.asarray(x).astype(dtype) * np.asarray(scale, dtype)
    return round_float(v, mode)


def round_float(v: np.ndarray, mode: str = "away") -> np.ndarray:
    """Floats to int64, half to even (rint) or half away from zero (C's round), exactly."""
    v = np.clip(v, -2.0**40, 2.0**40)
    if mode == "even":
        return np.rint(v).astype(np.int64)
    t = np.trunc(v)
    return (t + np.sign(v) * (np.abs(v - t) >= 0.5)).astype(np.int64)


def saturate(v: np.ndarray, lo: int = -128, hi: int = 127) -> np.ndarray:
    return np.clip(v, lo, hi)
