"""The op generator's other 13 ops and the table of all 16 (BUILDERS: op name -> builder taking
a Draw and returning a tflite_build.ModelBuilder with one op, its inputs and output set)."""

from __future__ import annotations

import numpy as np

from tests.firmware.opgen_macs import conv2d, depthwise_conv2d, fully_connected
from tests.firmware.opgen_quant import SAME, VALID, Draw, conv_out, f32
from tools.tflite_build import ModelBuilder

__all__ = ["BUILDERS", "Draw"]


def _shape(d: Draw, rank: int, hi: int = 6) -> tuple[int, ...]:
    return tuple(d.int(1, hi) for _ in range(rank))


def _single(m: ModelBuilder, op: str, x: int, y: int, ins=None, options=None) -> ModelBuilder:
    m.op(op, ins or [x], [y], options)
    m.inputs, m.outputs = [x], [y]
    return m


def pool(d: Draw, op: str) -> ModelBuilder:
    m = ModelBuilder()
    kh, kw, sh, sw = d.int(1, 5), d.int(1, 5), d.int(1, 3), d.int(1, 3)
    pad = d.pick([SAME, VALID])
    h = d.int(kh if pad == VALID else 1, kh + 9)
    w = d.int(kw if pad == VALID else 1, kw + 9)
    shape = (d.pick([1, 1, 2]), h, w, d.pick([d.int(1, 8), 4 * d.int(1, 6)]))
    s, z, act = d.scale(), d.zp(), d.act()
    d.note(shape=shape, k=(kh, kw), stride=(sh, sw), pad=pad, scale=s, zp=z, act=act)
    x = m.tensor(shape, np.int8, s, z)
    y = m.tensor((shape[0], conv_out(h, kh, sh, 1, pad), conv_out(w, kw, sw, 1, pad), shape[3]), np.int8, s, z)
    return _single(m, op, x, y, options={0: ("u8", pad), 1: ("i32", sw), 2: ("i32", sh), 3: ("i32", kw),
                                         4: ("i32", kh), 5: ("u8", act)})


def _broadcast_pair(d: Draw):
    out = _shape(d, d.pick([1, 2, 3, 4, 4, 5]))
    mode = d.pick(["same", "one_sided", "two_sided", "rank_diff", "scalar"])
    a, b = list(out), list(out)
    if mode in ("one_sided", "two_sided"):
        b = [1 if d.rng.random() < 0.5 else v for v in b]
    if mode == "two_sided":
        a = [1 if d.rng.random() < 0.5 and bv != 1 else v for v, bv in zip(a, b)]
    if mode == "rank_diff":
        b = b[d.int(1, len(b)):] or [1]
    if mode == "scalar":
        b = [1]
    a, b = (b, a) if d.rng.random() < 0.5 else (a, b)
    d.note(shapes=(tuple(a), tuple(b)), broadcast=mode)
    return tuple(a), tuple(b), tuple(np.broadcast_shapes(tuple(a), tuple(b)))


def binary(d: Draw, op: str) -> ModelBuilder:
    m = ModelBuilder()
    sa, sb = _broadcast_pair(d)[:2]
    out = tuple(np.broadcast_shapes(sa, sb))
    s1, s2, z1, z2 = d.scale(), d.scale(), d.zp(), d.zp()
    if op == "ADD":  # ADD's own scheme: both inputs rescaled to 2 * max scale, output near it
        so = f32(max(s1, s2) * 2.0 ** d.rng.uniform(-6, 5)) if d.rng.random() < 0.85 else d.scale()
        d.note(out_scale=so)
    else:
        so = d.out_scale(s1 * s2, 5476.0)
    act = d.act()
    d.note(scales=(s1, s2), zps=(z1, z2), act=act)
    a, b = m.tensor(sa, np.int8, s1, z1), m.tensor(sb, np.int8, s2, z2)
    y = m.tensor(out, np.int8, so, d.zp())
    m.op(op, [a, b], [y], {0: ("u8", act)})
    m.inputs, m.outputs = [a, b], [y]
    return m


def _factor(d: Draw, n: int) -> tuple[int, ...]:
    """n as a product of 1..5 random factors (1s allowed)."""
    dims = []
    for _ in range(d.int(0, 4)):
        divs = [k for k in range(1, n + 1) if n % k == 0]
        k = d.pick(divs)
        dims.append(k)
        n //= k
    dims.append(n)
    return tuple(int(v) for v in d.rng.permutation(dims))


def reshape(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    shape = _shape(d, d.int(1, 4))
    new = _factor(d, int(np.prod(shape)))
    s, z = d.scale(), d.zp()
    how = d.pick(["tensor", "option", "both"])
    d.note(shape=shape, new_shape=new, given_by=how)
    x, y = m.tensor(shape, np.int8, s, z), m.tensor(new, np.int8, s, z)
    ins = [x] + ([m.tensor((len(new),), np.int32, data=np.array(new))] if how != "option" else [])
    opts = {0: ("vec_i32", list(new))} if how != "tensor" else None
    return _single(m, "RESHAPE", x, y, ins, opts)


def softmax(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    shape = _shape(d, d.int(0, 3), 4) + (d.pick([d.int(1, 16), d.int(17, 300), d.int(301, 511)], [5, 3, 1]),)
    beta = d.pick([1.0, f32(d.rng.uniform(0.05, 3.0))])
    s = f32(2.0 ** d.rng.uniform(-14, 3))
    d.note(shape=shape, beta=beta, in_scale=s)
    x, y = m.tensor(shape, np.int8, s, d.zp()), m.tensor(shape, np.int8, 1 / 256, -128)
    return _single(m, "SOFTMAX", x, y, options={0: ("f32", beta)})


def logistic(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    shape, s = _shape(d, d.int(1, 3), 12), f32(2.0 ** d.rng.uniform(-16, 4))
    d.note(shape=shape, in_scale=s)
    x, y = m.tensor(shape, np.int8, s, d.zp()), m.tensor(shape, np.int8, 1 / 256, -128)
    return _single(m, "LOGISTIC", x, y)


def quantize(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    shape, from_float = _shape(d, d.int(1, 3), 10), d.rng.random() < 0.5
    if from_float:
        x, so = m.tensor(shape, np.float32), d.scale(-8, 3)
    else:
        si = d.scale()
        x, so = m.tensor(shape, np.int8, si, d.zp()), d.out_scale(si, 74.0)
    d.note(shape=shape, from_float=from_float, out_scale=so)
    return _single(m, "QUANTIZE", x, m.tensor(shape, np.int8, so, d.zp()))


def dequantize(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    shape, s, z = _shape(d, d.int(1, 3), 10), d.scale(), d.zp()
    d.note(shape=shape, scale=s, zp=z)
    return _single(m, "DEQUANTIZE", m.tensor(shape, np.int8, s, z), m.tensor(shape, np.float32))


def pad(d: Draw, op: str) -> ModelBuilder:
    m = ModelBuilder()
    shape = _shape(d, d.int(1, 4))
    pads = [(d.int(0, 3), d.int(0, 3)) for _ in shape]
    s, z = d.scale(), d.zp()
    d.note(shape=shape, paddings=pads)
    x = m.tensor(shape, np.int8, s, z)
    ins = [x, m.tensor((len(shape), 2), np.int32, data=np.array(pads))]
    if op == "PADV2":
        c = d.pick([d.int(-128, 127), -128, 127, z])
        d.note(constant=c)
        ins.append(m.tensor((1,), np.int8, s, z, np.array([c])))
    y = m.tensor(tuple(v + a + b for v, (a, b) in zip(shape, pads)), np.int8, s, z)
    return _single(m, op, x, y, ins)


def mean(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    rank = d.pick([1, 2, 3, 4, 4])
    shape = _shape(d, rank, 9)
    axes = [1, 2] if rank == 4 and d.rng.random() < 0.3 else \
        sorted(d.rng.choice(rank, d.int(1, rank), replace=False).tolist())
    axes = [a - rank if d.rng.random() < 0.3 else a for a in axes]
    keep = bool(d.rng.random() < 0.5)
    si, zi = d.scale(), d.zp()
    so, zo = (si, zi) if d.rng.random() < 0.4 else (d.out_scale(si, 74.0), d.zp())
    red = {a % rank for a in axes}
    out = tuple(1 if i in red else v for i, v in enumerate(shape)) if keep else \
        tuple(v for i, v in enumerate(shape) if i not in red)
    d.note(shape=shape, axes=axes, keep_dims=keep, in_q=(si, zi), out_q=(so, zo))
    x = m.tensor(shape, np.int8, si, zi)
    ax = m.tensor((len(axes),), np.int32, data=np.array(axes))
    return _single(m, "MEAN", x, m.tensor(out, np.int8, so, zo), [x, ax], {0: ("bool", keep)})


def concatenation(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    rank = d.int(1, 4)
    base, axis = list(_shape(d, rank)), d.int(-rank, rank - 1)
    shapes = [tuple(base[:axis % rank] + [d.int(1, 5)] + base[axis % rank + 1:]) for _ in range(d.int(1, 5))]
    s, z = d.scale(), d.zp()
    d.note(shapes=shapes, axis=axis)
    xs = [m.tensor(sh, np.int8, s, z) for sh in shapes]
    out = list(base)
    out[axis % rank] = sum(sh[axis % rank] for sh in shapes)
    y = m.tensor(tuple(out), np.int8, s, z)
    m.op("CONCATENATION", xs, [y], {0: ("i32", axis)})
    m.inputs, m.outputs = xs, [y]
    return m


BUILDERS = {
    "CONV_2D": conv2d, "DEPTHWISE_CONV_2D": depthwise_conv2d, "FULLY_CONNECTED": fully_connected,
    "AVERAGE_POOL_2D": lambda d: pool(d, "AVERAGE_POOL_2D"), "MAX_POOL_2D": lambda d: pool(d, "MAX_POOL_2D"),
    "ADD": lambda d: binary(d, "ADD"), "MUL": lambda d: binary(d, "MUL"), "RESHAPE": reshape,
    "SOFTMAX": softmax, "QUANTIZE": quantize, "DEQUANTIZE": dequantize, "LOGISTIC": logistic,
    "PAD": lambda d: pad(d, "PAD"), "PADV2": lambda d: pad(d, "PADV2"), "MEAN": mean,
    "CONCATENATION": concatenation,
}
