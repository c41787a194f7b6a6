"""An arithmetic variant: the knobs in which int8 kernel sets differ, and the requantisation
step they select. One Arith value describes how a kernel set computes one op."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import fixedpoint as fx


class Undefined(ValueError):
    """The reference's own arithmetic is undefined here (an int32 overflow in C): nothing to reproduce."""


@dataclass(frozen=True)
class Arith:
    """requant: double (SRDHM then a rounding shift: TFLM), single (one rounding of the 64-bit
    product: ruy), float (float32 scale, XNNPACK fp32). rounding: of the last step — away (half
    away from zero), up (half toward +inf), even (half to even), floor (plain shift).
    high_mul (double only): the first rounding, up (SRDHM, VQRDMULH), floor (SQDMULH) or away. acc: int32 (wraps) or int64 (exact,
    saturated before requantisation). per_channel: False uses channel 0's multiplier everywhere.
    scale: how the real multiplier is formed — tflm (in double), float_product (per-tensor
    FULLY_CONNECTED: in*w rounded to float32 first, as older TFLite), float (all float32). pool: average-pool division
    rounding. exp: fixed (gemmlowp fixed point: TFLM), lut (a float table, TFLite optimised
    kernels), float (exact float then one rounding). form: an op's own algorithm where kernel sets
    differ beyond rounding — MEAN: tflm | float (TFLite reference) | hw (TFLite 4-D height-width);
    DEQUANTIZE: tflm | double; QUANTIZE from float: tflm (divide) | reciprocal; PAD: tflm | zero."""

    requant: str = "double"  # double | single | float | float64 | xnnpack (ADD)
    rounding: str = "away"
    high_mul: str = "up"
    acc: str = "int32"
    per_channel: bool = True
    scale: str = "tflm"
    pool: str = "away"
    exp: str = "fixed"
    form: str = "tflm"

    def but(self, **kw) -> "Arith":
        return replace(self, **kw)


TFLM = Arith()


def real_multipliers(a: Arith, in_scale: float, w_scales, out_scale: float, fc_per_tensor: bool) -> np.ndarray:
    """in_scale * w_scale / out_scale per channel, formed as the variant's kernel set forms it."""
    ws = np.asarray(w_scales, np.float64).reshape(-1)
    if a.scale == "float":
        f32 = np.float32
        return (f32(in_scale) * ws.astype(f32) / f32(out_scale)).astype(np.float64)
    if a.scale == "float_product" and fc_per_tensor:
        prod = (np.float32(in_scale) * ws.astype(np.float32)).astype(np.float64)
        return prod / np.float64(out_scale)
    return np.float64(in_scale) * ws / np.float64(out_scale)


def requantize(a: Arith, x: np.ndarray, real, axis_len: int | None = None) -> np.ndarray:
    """x (int64 holding int32 sums) times the real multiplier(s), broadcast on the last axis,
    rounded as the variant does. Returns int64 before the output zero point."""
    real = np.asarray(real, np.float64).reshape(-1)
    if not a.per_channel:
        real = real[:1]
    if a.acc == "int32":
        x = fx.wrap32(x)
    else:
        x = np.clip(x, fx.I32_MIN, fx.I32_MAX)
    if a.requant == "float":
        return fx.requant_float(x, real.astype(np.float32), "away" if a.rounding == "away" else "even")
    if a.requant == "float64":
        return fx.requant_float(x, real, "away" if a.rounding == "away" else "even", np.float64)
    pairs = [fx.quantize_multiplier(float(r)) for r in real]
    m = np.array([p[0] for p in pairs], np.int64)
    s = np.array([p[1] for p in pairs], np.int64)
    if s.max() > 30:
        raise Undefined("requantisation multiplier too large: the reference's left shift by 31 or more "
                         "overflows int32 (undefined in C), so there is no arithmetic to reproduce")
    if a.requant == "single":
        return fx.requant_single(x, m, s, a.rounding)
    return fx.requant_double(x, m, s, a.rounding, a.high_mul)


def act_range(act: int, scale: float, zp: int) -> tuple[int, int]:
    """The fused activation's clamp in the output's int8 domain: zp + round(v / scale) (float32
    divide, half away from zero), as TFLite's CalculateActivationRangeQuantized."""
    def q(v: float) -> int:
        r = int(fx.round_float(np.float32(v) / np.float32(scale), "away"))
        if not -(1 << 31) <= r <= 2147483520:  # the largest float32 below 2^31
            raise Undefined("activation bound overflows int32: the reference's float-to-int cast is "
                             "undefined in C, so there is no arithmetic to reproduce")
        return zp + r

    lo, hi = -128, 127
    if act == 1:
        lo = max(lo, q(0.0))
    elif act == 2:
        lo, hi = max(lo, q(-1.0)), min(hi, q(1.0))
    elif act == 3:
        lo, hi = max(lo, q(0.0)), min(hi, q(6.0))
    return lo, hi


def finish(v: np.ndarray, zp: int, lo: int, hi: int, wrap: bool = True) -> np.ndarray:
    """Output zero point (a wrapping int32 add, like the compiled reference), clamp, int8."""
    v = fx.wrap32(v + zp) if wrap else v + zp
    return np.clip(v, lo, hi).astype(np.int8)
