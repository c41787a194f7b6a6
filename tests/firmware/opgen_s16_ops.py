"""The int16 generator's other ops (pooling, ADD, MUL, SOFTMAX, LOGISTIC, TANH, PAD, PADV2,
RESHAPE, CONCATENATION, MEAN, QUANTIZE, DEQUANTIZE) and BUILDERS16, the table of all of them."""

from __future__ import annotations

import numpy as np

from tests.firmware import opgen_ops as g8, opgen_s16 as mac
from tests.firmware.opgen_ops import _single
from tests.firmware.opgen_quant import SAME, VALID, Draw, conv_out, f32
from tests.firmware.opgen_s16 import I16, out_scale16, zp16
from tools.tflite_build import ModelBuilder


def pool(d: Draw, op: str) -> ModelBuilder:
    m = ModelBuilder()
    kh, kw, sh, sw = d.int(1, 5), d.int(1, 5), d.int(1, 3), d.int(1, 3)
    pad = d.pick([SAME, VALID])
    h, w = d.int(kh if pad == VALID else 1, kh + 9), d.int(kw if pad == VALID else 1, kw + 9)
    shape = (d.pick([1, 1, 2]), h, w, d.pick([d.int(1, 8), 4 * d.int(1, 6)]))
    s, z, act = d.scale(), zp16(d), d.act()
    d.note(shape=shape, k=(kh, kw), stride=(sh, sw), pad=pad, scale=s, zp=z, act=act)
    x = m.tensor(shape, I16, s, z)
    y = m.tensor((shape[0], conv_out(h, kh, sh, 1, pad), conv_out(w, kw, sw, 1, pad), shape[3]), I16, s, z)
    return _single(m, op, x, y, options={0: ("u8", pad), 1: ("i32", sw), 2: ("i32", sh), 3: ("i32", kw),
                                         4: ("i32", kh), 5: ("u8", act)})


def binary(d: Draw, op: str) -> ModelBuilder:
    m = ModelBuilder()
    sa, sb, out = g8._broadcast_pair(d)
    s1, s2 = d.scale(), d.scale()
    if op == "ADD":  # output scale near 2 * max(input scales): the rescaled sum fits
        so = f32(max(s1, s2) * 2.0 ** d.rng.uniform(-6, 5)) if d.rng.random() < 0.85 else d.scale()
        d.note(out_scale=so)
    else:
        so = out_scale16(d, s1 * s2, 2.0**28)
    act = d.act()
    d.note(scales=(s1, s2), act=act)
    a, b = m.tensor(sa, I16, s1, 0), m.tensor(sb, I16, s2, 0)
    y = m.tensor(out, I16, so, 0)
    m.op(op, [a, b], [y], {0: ("u8", act)})
    m.inputs, m.outputs = [a, b], [y]
    return m


def softmax(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    shape = g8._shape(d, d.int(0, 3), 4) + (d.pick([d.int(1, 16), d.int(17, 300), d.int(301, 1000)], [5, 3, 1]),)
    beta = d.pick([1.0, f32(d.rng.uniform(0.05, 3.0))])
    s = f32(2.0 ** d.rng.uniform(-16, -2))
    d.note(shape=shape, beta=beta, in_scale=s)
    x, y = m.tensor(shape, I16, s, 0), m.tensor(shape, I16, 1 / 32768, 0)
    return _single(m, "SOFTMAX", x, y, options={0: ("f32", beta)})


def sigmoid_like(d: Draw, op: str) -> ModelBuilder:
    """LOGISTIC / TANH: power-of-two input scales (TFLM's 3 * 2^k multiplier) and any others."""
    m = ModelBuilder()
    shape = g8._shape(d, d.int(1, 3), 12)
    s = d.pick([2.0**-12, 2.0**-11, 2.0 ** d.int(-16, 1), f32(2.0 ** d.rng.uniform(-16, 1))], [2, 1, 2, 5])
    d.note(shape=shape, in_scale=s)
    x, y = m.tensor(shape, I16, s, 0), m.tensor(shape, I16, 2.0**-15, 0)
    return _single(m, op, x, y)


def quantize(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    shape = g8._shape(d, d.int(1, 3), 10)
    kind = d.pick(["f32_s16", "s8_s16", "s16_s8", "s16_s16"])
    d.note(shape=shape, kind=kind)
    if kind == "f32_s16":
        return _single(m, "QUANTIZE", m.tensor(shape, np.float32), m.tensor(shape, I16, d.scale(-8, 3), zp16(d)))
    src = (np.int8, d.scale(), d.zp()) if kind == "s8_s16" else (I16, d.scale(), zp16(d))
    x = m.tensor(shape, src[0], src[1], src[2])
    dst, spread = (np.int8, 74.0) if kind == "s16_s8" else (I16, 74.0 if kind == "s8_s16" else 18918.0)
    so = out_scale16(d, src[1], spread) if dst is I16 else d.out_scale(src[1], 18918.0)
    return _single(m, "QUANTIZE", x, m.tensor(shape, dst, so, zp16(d) if dst is I16 else d.zp()))


def dequantize(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    shape, s, z = g8._shape(d, d.int(1, 3), 10), d.scale(), zp16(d)
    d.note(shape=shape, scale=s, zp=z)
    return _single(m, "DEQUANTIZE", m.tensor(shape, I16, s, z), m.tensor(shape, np.float32))


def pad(d: Draw, op: str) -> ModelBuilder:
    m = ModelBuilder()
    shape = g8._shape(d, d.int(1, 4))
    pads = [(d.int(0, 3), d.int(0, 3)) for _ in shape]
    s, z = d.scale(), zp16(d) if op == "PADV2" else 0  # TFLM pads int16 with 0, not the zero point
    d.note(shape=shape, paddings=pads, zp=z)
    x = m.tensor(shape, I16, s, z)
    ins = [x, m.tensor((len(shape), 2), np.int32, data=np.array(pads))]
    if op == "PADV2":
        c = d.pick([d.int(-32768, 32767), -32768, 32767, z])
        d.note(constant=c)
        ins.append(m.tensor((1,), I16, s, z, np.array([c])))
    y = m.tensor(tuple(v + a + b for v, (a, b) in zip(shape, pads)), I16, s, z)
    return _single(m, op, x, y, ins)


def reshape(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    shape = g8._shape(d, d.int(1, 4))
    new = g8._factor(d, int(np.prod(shape)))
    s = d.scale()
    d.note(shape=shape, new_shape=new)
    x, y = m.tensor(shape, I16, s, 0), m.tensor(new, I16, s, 0)
    return _single(m, "RESHAPE", x, y, [x, m.tensor((len(new),), np.int32, data=np.array(new))])


def concatenation(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    rank = d.int(1, 4)
    base, axis = list(g8._shape(d, rank)), d.int(-rank, rank - 1)
    shapes = [tuple(base[:axis % rank] + [d.int(1, 5)] + base[axis % rank + 1:]) for _ in range(d.int(1, 5))]
    s = d.scale()
    d.note(shapes=shapes, axis=axis)
    xs = [m.tensor(sh, I16, s, 0) for sh in shapes]
    out = list(base)
    out[axis % rank] = sum(sh[axis % rank] for sh in shapes)
    y = m.tensor(tuple(out), I16, s, 0)
    m.op("CONCATENATION", xs, [y], {0: ("i32", axis)})
    m.inputs, m.outputs = xs, [y]
    return m


def mean(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    rank = d.pick([1, 2, 3, 4, 4])
    shape = g8._shape(d, rank, 9)
    axes = [1, 2] if rank == 4 and d.rng.random() < 0.3 else \
        sorted(d.rng.choice(rank, d.int(1, rank), replace=False).tolist())
    keep = bool(d.rng.random() < 0.5)
    si, zi = d.scale(), zp16(d)
    so, zo = (si, zi) if d.rng.random() < 0.4 else (out_scale16(d, si, 18918.0), zp16(d))
    red = {a % rank for a in axes}
    out = tuple(1 if i in red else v for i, v in enumerate(shape)) if keep else \
        tuple(v for i, v in enumerate(shape) if i not in red)
    d.note(shape=shape, axes=axes, keep_dims=keep, in_q=(si, zi), out_q=(so, zo))
    x = m.tensor(shape, I16, si, zi)
    ax = m.tensor((len(axes),), np.int32, data=np.array(axes))
    return _single(m, "MEAN", x, m.tensor(out, I16, so, zo), [x, ax], {0: ("bool", keep)})


BUILDERS16 = {
    "CONV_2D_S16": mac.conv2d, "DEPTHWISE_CONV_2D_S16": mac.depthwise_conv2d,
    "FULLY_CONNECTED_S16": mac.fully_connected,
    "AVERAGE_POOL_2D_S16": lambda d: pool(d, "AVERAGE_POOL_2D"), "MAX_POOL_2D_S16": lambda d: pool(d, "MAX_POOL_2D"),
    "ADD_S16": lambda d: binary(d, "ADD"), "MUL_S16": lambda d: binary(d, "MUL"), "RESHAPE_S16": reshape,
    "SOFTMAX_S16": softmax, "LOGISTIC_S16": lambda d: sigmoid_like(d, "LOGISTIC"),
    "TANH_S16": lambda d: sigmoid_like(d, "TANH"), "QUANTIZE_S16": quantize, "DEQUANTIZE_S16": dequantize,
    "PAD_S16": lambda d: pad(d, "PAD"), "PADV2_S16": lambda d: pad(d, "PADV2"), "MEAN_S16": mean,
    "CONCATENATION_S16": concatenation,
}
