"""AVERAGE_POOL_2D, MAX_POOL_2D and the byte movers (RESHAPE, PAD, PADV2, CONCATENATION).

The pooling window is clipped to the input (padding never counts); the average is the sum
divided by the clipped count, rounded by the variant's `pool` mode: away (TFLM: (sum ± n/2) / n
in C), up, even, floor, or trunc_bias ((sum + n/2) / n in C whatever the sign)."""

from __future__ import annotations

import numpy as np

from . import fixedpoint as fx
from .arith import Arith, act_range
from .conv import _geometry
from .graph import Op


def _windows(op: Op, x: np.ndarray, fill: int):
    """(views over the padded input [B, OH, OW, C] per tap, count of real taps per output)."""
    t, y = op.inputs[0], op.outputs[0]
    padding, sw, sh = int(op.opt(0, "b", 0)), int(op.opt(1, "i", 1)), int(op.opt(2, "i", 1))
    fw, fh = int(op.opt(3, "i", 1)), int(op.opt(4, "i", 1))
    b, h, w, c = t.shape
    oh, ph = _geometry(padding, h, fh, sh, 1)
    ow, pw = _geometry(padding, w, fw, sw, 1)
    big_h, big_w = max((oh - 1) * sh + fh, ph + h), max((ow - 1) * sw + fw, pw + w)
    xp = np.full((b, big_h, big_w, c), fill, np.int64)
    xp[:, ph:ph + h, pw:pw + w] = x.reshape(t.shape)
    ones = np.zeros((big_h, big_w), np.int64)
    ones[ph:ph + h, pw:pw + w] = 1
    views, count = [], np.zeros((oh, ow), np.int64)
    for ky in range(fh):
        for kx in range(fw):
            views.append(xp[:, ky:ky + (oh - 1) * sh + 1:sh, kx:kx + (ow - 1) * sw + 1:sw])
            count += ones[ky:ky + (oh - 1) * sh + 1:sh, kx:kx + (ow - 1) * sw + 1:sw]
    return views, count[None, :, :, None], y


def _divide(s: np.ndarray, n: np.ndarray, mode: str) -> np.ndarray:
    if mode == "trunc_bias":  # (sum + n/2) / n with C's truncating division
        q = s + n // 2
        return np.where(q < 0, -((-q) // n), q // n)
    if mode == "float":
        return fx.round_float(s.astype(np.float32) / n.astype(np.float32), "away")
    twice = 2 * s  # s / n = twice / 2n: the rounding helpers need a power of two, so do it here
    if mode == "away":
        return np.where(s >= 0, (twice + n) // (2 * n), -((-twice + n) // (2 * n)))
    if mode == "up":
        return (twice + n) // (2 * n)
    if mode == "floor":
        return s // n
    if mode == "even":
        q, r = np.divmod(s, n)
        return q + ((2 * r > n) | ((2 * r == n) & (q % 2 == 1)))
    raise ValueError(f"unknown pool rounding {mode!r}")


def average_pool(a: Arith, op: Op, xs: list[np.ndarray]) -> np.ndarray:
    views, count, y = _windows(op, xs[0], 0)
    s = np.sum(views, axis=0)
    lo, hi = act_range(int(op.opt(5, "b", 0)), y.scale, y.zp)
    return np.clip(_divide(s, count, a.pool), lo, hi).astype(np.int8).reshape(y.shape)


def max_pool(a: Arith, op: Op, xs: list[np.ndarray]) -> np.ndarray:
    views, _, y = _windows(op, xs[0], -(1 << 40))
    lo, hi = act_range(int(op.opt(5, "b", 0)), y.scale, y.zp)
    return np.clip(np.max(views, axis=0), lo, hi).astype(np.int8).reshape(y.shape)


def reshape(a: Arith, op: Op, xs: list[np.ndarray]) -> np.ndarray:
    return xs[0].reshape(op.outputs[0].shape)


def pad(a: Arith, op: Op, xs: list[np.ndarray]) -> np.ndarray:
    """Fill with the output zero point, or PADV2's constant (`form="zero"`: with 0, a bug)."""
    t, y = op.inputs[0], op.outputs[0]
    pads = op.inputs[1].data.reshape(-1, 2).astype(np.int64)
    fill = y.zp
    if len(op.inputs) > 2 and op.inputs[2] is not None and op.inputs[2].data is not None:
        fill = int(op.inputs[2].data.reshape(-1)[0])
    if a.form == "zero":
        fill = 0
    out = np.pad(xs[0].reshape(t.shape), [tuple(p) for p in pads], constant_values=fill)
    return out.astype(xs[0].dtype).reshape(y.shape)


def concatenation(a: Arith, op: Op, xs: list[np.ndarray]) -> np.ndarray:
    y = op.outputs[0]
    axis = int(op.opt(0, "i", 0)) % len(y.shape)
    parts = [x.reshape(t.shape) for x, t in zip(xs, op.inputs)]
    return np.concatenate(parts, axis=axis).reshape(y.shape)
