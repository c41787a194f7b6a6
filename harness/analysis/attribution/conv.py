"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED replayed in numpy: the exact sums
sum w * (x - in_zp) + bias (int64), then the variant's requantisation per output channel.
Sums are formed tap by tap (one strided view of the padded input per kernel position), so a
3x3 convolution costs nine matrix products."""

from __future__ import annotations

import numpy as np

from .arith import Arith, act_range, finish, real_multipliers, requantize
from .graph import Op


def _geometry(padding: int, n: int, k: int, stride: int, dil: int) -> tuple[int, int]:
    """(output size, leading pad) like TFLite's ComputePaddingHeightWidth."""
    eff = (k - 1) * dil + 1
    out = (n + stride - 1) // stride if padding == 0 else (n + stride - eff) // stride
    total = (out - 1) * stride + eff - n
    return out, max(total // 2, 0)


def _windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int, ph: int, pw: int,
             oh: int, ow: int):
    """(ky, kx, view [B, oh, ow, C]) per tap; x is already offset (x - in_zp), so padding with
    zeros is the same as skipping the taps outside the input."""
    b, h, w, c = x.shape
    need_h = (oh - 1) * sh + (kh - 1) * dh + 1
    need_w = (ow - 1) * sw + (kw - 1) * dw + 1
    xp = np.zeros((b, max(need_h, ph + h), max(need_w, pw + w), c), np.int64)
    xp[:, ph:ph + h, pw:pw + w] = x
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dh, kx * dw
            yield ky, kx, xp[:, y0:y0 + (oh - 1) * sh + 1:sh, x0:x0 + (ow - 1) * sw + 1:sw]


def _conv_opts(op: Op, depthwise: bool) -> dict:
    a, d = (4, 5) if depthwise else (3, 4)
    return {"padding": int(op.opt(0, "b", 0)), "sw": int(op.opt(1, "i", 1)), "sh": int(op.opt(2, "i", 1)),
            "act": int(op.opt(a, "b", 0)), "dw": int(op.opt(d, "i", 1)), "dh": int(op.opt(d + 1, "i", 1))}


def _bias(op: Op) -> np.ndarray | None:
    b = op.inputs[2] if len(op.inputs) > 2 else None
    return None if b is None or b.data is None else b.data.astype(np.int64)


def _out(a: Arith, op: Op, acc: np.ndarray, act: int, fc_per_tensor: bool = False) -> np.ndarray:
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    bias = _bias(op)
    if bias is not None:
        acc = acc + bias
    real = real_multipliers(a, x.scale, w.scales, y.scale, fc_per_tensor)
    lo, hi = act_range(act, y.scale, y.zp)
    return finish(requantize(a, acc, real), y.zp, lo, hi).reshape(y.shape)


def conv2d(a: Arith, op: Op, x: np.ndarray) -> np.ndarray:
    xt, wt, yt = op.inputs[0], op.inputs[1], op.outputs[0]
    o = _conv_opts(op, False)
    w = wt.data.astype(np.int64)  # [OC, KH, KW, IC/groups]
    oc, kh, kw, fc = w.shape
    xs = x.reshape(xt.shape).astype(np.int64) - xt.zp
    oh, ph = _geometry(o["padding"], xs.shape[1], kh, o["sh"], o["dh"])
    ow, pw = _geometry(o["padding"], xs.shape[2], kw, o["sw"], o["dw"])
    groups = xs.shape[3] // fc
    per_group = oc // groups
    acc = np.zeros((xs.shape[0], oh, ow, oc), np.int64)
    for ky, kx, v in _windows(xs, kh, kw, o["sh"], o["sw"], o["dh"], o["dw"], ph, pw, oh, ow):
        for g in range(groups):
            cols = slice(g * per_group, (g + 1) * per_group)
            acc[..., cols] += v[..., g * fc:(g + 1) * fc] @ w[cols, ky, kx, :].T
    return _out(a, op, acc, o["act"])


def depthwise_conv2d(a: Arith, op: Op, x: np.ndarray) -> np.ndarray:
    xt, wt = op.inputs[0], op.inputs[1]
    o = _conv_opts(op, True)
    w = wt.data.astype(np.int64)  # [1, KH, KW, OC]
    _, kh, kw, oc = w.shape
    xs = x.reshape(xt.shape).astype(np.int64) - xt.zp
    mult = oc // xs.shape[3]
    xs = np.repeat(xs, mult, axis=3)  # output channel c reads input channel c // mult
    oh, ph = _geometry(o["padding"], xs.shape[1], kh, o["sh"], o["dh"])
    ow, pw = _geometry(o["padding"], xs.shape[2], kw, o["sw"], o["dw"])
    acc = np.zeros((xs.shape[0], oh, ow, oc), np.int64)
    for ky, kx, v in _windows(xs, kh, kw, o["sh"], o["sw"], o["dh"], o["dw"], ph, pw, oh, ow):
        acc += v * w[0, ky, kx]
    return _out(a, op, acc, o["act"])


def fully_connected(a: Arith, op: Op, x: np.ndarray) -> np.ndarray:
    xt, wt = op.inputs[0], op.inputs[1]
    w = wt.data.astype(np.int64)  # [units, depth]
    per_channel = len(wt.scales) > 1
    w_zp = 0 if per_channel else wt.zp
    xs = x.reshape(-1, w.shape[1]).astype(np.int64) - xt.zp
    acc = xs @ (w - w_zp).T
    return _out(a, op, acc, int(op.opt(0, "b", 0)), fc_per_tensor=not per_channel)
