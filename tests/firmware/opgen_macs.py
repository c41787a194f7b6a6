"""The op generator's multiply-accumulate ops: CONV_2D (groups, dilation, strides, SAME/VALID),
DEPTHWISE_CONV_2D (depth multiplier) and FULLY_CONNECTED (any input rank, per-channel weights or
per-tensor weights with a zero point). Shapes lean towards what the DSP kernels special-case
(channels in 4s, 1x1 and 3x3 stride-1 windows, deep FC rows) and keep each case under ~200 000
MACs so thousands run per minute."""

from __future__ import annotations

import numpy as np

from tests.firmware.opgen_quant import (ALL_SHIFTS, BIAS_MODES, FAST_BIAS_MODES, FAST_SHIFTS, NONE, SAME, VALID, Draw,
                                        conv_out, f32, x_span)
from tools.tflite_build import ModelBuilder

MAX_MACS = 200_000


def _channels(d: Draw, deep: float = 0.0) -> int:
    """deep: weight of 200..600 channels (CONV_2D patches too long for the DSP scratch: chunks)."""
    return d.pick([d.int(1, 8), 4 * d.int(1, 6), d.int(9, 24), 8 * d.int(3, 8), d.int(200, 600)], [4, 4, 2, 1, deep])


def _window(d: Draw, n_out_ch: int, taps_per_ch: int, wide: bool = False, k3p: float = 0.3, k3_s2: bool = False):
    """(kh, kw, sh, sw, dh, dw, pad, h, w): a window that fits, within the MAC budget; wide:
    20..60 columns (depthwise rows too wide for the DSP scratch go in strips); k3p: the share of
    3x3 windows (the shape the depthwise DSP kernels specialise), stride 1, or 1 and 2 with k3_s2."""
    k3 = d.rng.random() < k3p
    ks = [1, 3, d.int(1, 5), 7]
    kh, kw = (3, 3) if k3 else (d.pick(ks, [3, 3, 3, 0.3]), d.pick(ks, [3, 3, 3, 0.3]))
    s3 = d.pick([1, 1, 2]) if k3 and k3_s2 else 1
    sh, sw = (s3, s3) if k3 else (d.pick([1, 1, 2, 3]), d.pick([1, 1, 2, 3]))
    dh, dw = (1, 1) if k3 or d.rng.random() < 0.6 else (d.int(1, 3), d.int(1, 3))
    pad = d.pick([SAME, VALID])
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    h = d.int(eh if pad == VALID else 1, eh + 9)
    w = d.int(max(ew, 20), max(ew, 60)) if wide else d.int(ew if pad == VALID else 1, ew + 12)
    while h * w * n_out_ch * kh * kw * taps_per_ch > MAX_MACS and (h > eh or w > ew):
        h, w = (max(eh, h // 2), w) if h > eh else (h, max(ew, w // 2))
    return kh, kw, sh, sw, dh, dw, pad, h, w


def _weight_scales(d: Draw, n: int, per_channel: bool):
    base = d.scale()
    if not per_channel:
        return base
    mode = d.pick(["near", "wide", "same"], [3, 1, 1])
    d.note(channel_scales=mode)
    if mode == "near":
        return [f32(base * 2.0 ** d.rng.uniform(-2, 2)) for _ in range(n)]
    return [d.scale() for _ in range(n)] if mode == "wide" else [base] * n


def _out_tensor(d: Draw, m: ModelBuilder, shape, in_scale, in_zp, w, ws, fo: int = 0, shifts=ALL_SHIFTS) -> int:
    """The output tensor; its scale from the first channel's multiplier and the spread of
    a random input's accumulators (shifts: Draw.out_scale's)."""
    w0 = np.asarray(w, np.float64).reshape(w.shape[0], -1)[0] + fo
    spread = float(np.sqrt(np.sum(w0 * w0)) * np.sqrt(5461 + in_zp * in_zp))
    ws0 = ws[0] if isinstance(ws, list) else ws
    return m.tensor(shape, np.int8, d.out_scale(in_scale * ws0, spread, shifts=shifts), d.zp())


def _bias_tensor(d: Draw, m: ModelBuilder, bound, in_scale, ws, allow_none=True, weights=BIAS_MODES):
    b = d.bias(np.asarray(bound, np.int64), allow_none, weights)
    if b is None:
        return None
    scales = [f32(in_scale * s) for s in ws] if isinstance(ws, list) else f32(in_scale * ws)
    return m.tensor((len(b),), np.int32, scales, 0, np.asarray(b, np.int64).astype(np.int32))


def conv2d(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    groups = d.pick([1, 1, 1, 1, 2, d.int(2, 4)])
    cin_g, cout = _channels(d, deep=0.4), groups * d.pick([_channels(d), 1, 2])
    kh, kw, sh, sw, dh, dw, pad, h, wd = _window(d, cout, cin_g)
    n = d.pick([1, 1, 1, 2])
    per_channel = d.rng.random() < 0.8
    in_scale, in_zp = d.scale(), d.zp()
    d.note(shape=(n, h, wd, cin_g * groups), cout=cout, groups=groups, k=(kh, kw), stride=(sh, sw),
           dilation=(dh, dw), pad=pad, per_channel=per_channel, in_scale=in_scale, in_zp=in_zp)
    x = m.tensor((n, h, wd, cin_g * groups), np.int8, in_scale, in_zp)
    w = d.weights((cout, kh, kw, cin_g), lo=d.pick([-127, -128]))
    ws = _weight_scales(d, cout, per_channel)
    ins = [x, m.tensor(w.shape, np.int8, ws, 0, w, qdim=0)]
    bound = np.abs(w).reshape(cout, -1).sum(1) * x_span(in_zp)
    b = _bias_tensor(d, m, bound, in_scale, ws)
    ins += [b] if b is not None else []
    oh, ow = conv_out(h, kh, sh, dh, pad), conv_out(wd, kw, sw, dw, pad)
    y = _out_tensor(d, m, (n, oh, ow, cout), in_scale, in_zp, w, ws)
    act = d.act()
    d.note(act=act)
    m.op("CONV_2D", ins, [y], {0: ("u8", pad), 1: ("i32", sw), 2: ("i32", sh), 3: ("u8", act),
                               4: ("i32", dw), 5: ("i32", dh)})
    m.inputs, m.outputs = [x], [y]
    return m


def _dw3x3_shape(d: Draw):
    """(c, mult, kh, kw, sh, sw, dh, dw, pad, h, w, n) the 3x3 DSP row kernels take (channels in 4s,
    multiplier 1, stride 1 or 2), output rows of 3 and 6 (the narrow rows) as often as any other
    width up to 26: without this draw few random cases reached their asm on QEMU. Small padded maps
    go to dwconv3x3_small_dsp.c, so stride 1 leans to VALID and to maps up to 17 rows."""
    c, s = 4 * d.pick([d.int(1, 8), d.int(9, 40), d.int(41, 66)], [4, 2, 1]), d.pick([1, 1, 2])
    pad = d.pick([SAME, VALID], [1, 2] if s == 1 else [1, 1])
    ow = d.pick([3, 6, d.int(1, 26)])
    wd = ow * s - d.int(0, s - 1) if pad == SAME else (ow - 1) * s + 3 + d.int(0, s - 1)
    h = d.int(1 if pad == SAME else 3, 19 if s == 1 else 14)
    while h * conv_out(wd, 3, s, 1, pad) * c * 9 > MAX_MACS and h > 3:
        h //= 2
    while conv_out(h, 3, s, 1, pad) * conv_out(wd, 3, s, 1, pad) * c * 9 > MAX_MACS and c > 4:
        c -= 4
    return c, 1, 3, 3, s, s, 1, 1, pad, h, wd, d.pick([1, 1, 2])


def _dw3x3_small(d: Draw):
    """(c, mult, kh, kw, sh, sw, dh, dw, pad, h, w, n): the tiny maps the small-map 3x3 kernel takes
    (dwconv3x3_small_dsp.c: 1x1 to 14x14 inputs, stride 1 or 2, tiles of 16 channels and a partial
    one, batch 2), most with the whole int8 range as activation range (the only one it runs)."""
    c, s, pad = 4 * d.pick([d.int(1, 3), d.int(4, 8), d.int(9, 20)]), d.pick([1, 2]), d.pick([SAME, VALID])
    lo = 3 if pad == VALID else 1
    h, wd = d.int(lo, 6 * s + 2), d.int(lo, 6 * s + 2)
    d.note(small_map=True)
    return c, 1, 3, 3, s, s, 1, 1, pad, h, wd, d.pick([1, 2])


def depthwise_op(d: Draw, m: ModelBuilder, x: int, ins: list, y: int, pad: int, stride, dil, mult: int,
                 full_range: float = 0.0) -> ModelBuilder:
    """The DEPTHWISE_CONV_2D op of m (int8 and int16x8 generators alike), its fused activation
    drawn last (NONE, the whole range, with probability full_range, else any), x in and y out."""
    act = NONE if full_range and d.rng.random() < full_range else d.act()
    d.note(act=act)
    m.op("DEPTHWISE_CONV_2D", ins, [y], {0: ("u8", pad), 1: ("i32", stride[1]), 2: ("i32", stride[0]),
                                         3: ("i32", mult), 4: ("u8", act), 5: ("i32", dil[1]), 6: ("i32", dil[0])})
    m.inputs, m.outputs = [x], [y]
    return m


def depthwise_conv2d(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    u = d.rng.random()
    fast = u < 0.55  # the 3x3 kernels' draws: most within the fast requantisation's reach (shift, |acc|)
    if u < 0.3:
        c, mult, kh, kw, sh, sw, dh, dw, pad, h, wd, n = _dw3x3_shape(d)
    elif u < 0.55:
        c, mult, kh, kw, sh, sw, dh, dw, pad, h, wd, n = _dw3x3_small(d)
    else:
        wide = d.rng.random() < 0.08
        c, mult = (d.pick([64, 128, 4 * d.int(16, 64)]) if wide else _channels(d)), d.pick([1, 1, 1, 2, d.int(2, 4)])
        kh, kw, sh, sw, dh, dw, pad, h, wd = _window(d, c * mult, 1, wide, k3p=0.45, k3_s2=True)
        n = d.pick([1, 1, 1, 2])
    per_channel = d.rng.random() < 0.8
    in_scale, in_zp = d.scale(), d.zp()
    d.note(shape=(n, h, wd, c), mult=mult, k=(kh, kw), stride=(sh, sw), dilation=(dh, dw), pad=pad,
           per_channel=per_channel, in_scale=in_scale, in_zp=in_zp)
    x = m.tensor((n, h, wd, c), np.int8, in_scale, in_zp)
    oc = c * mult
    w = d.weights((1, kh, kw, oc), lo=d.pick([-127, -128]))
    ws = _weight_scales(d, oc, per_channel)
    ins = [x, m.tensor(w.shape, np.int8, ws, 0, w, qdim=3)]
    bound = np.abs(w).reshape(-1, oc).sum(0) * x_span(in_zp)
    b = _bias_tensor(d, m, bound, in_scale, ws, weights=FAST_BIAS_MODES if fast else BIAS_MODES)
    ins += [b] if b is not None else []
    wt = np.moveaxis(w, 3, 0)  # channel-first for the spread estimate
    y = _out_tensor(d, m, (n, conv_out(h, kh, sh, dh, pad), conv_out(wd, kw, sw, dw, pad), oc),
                    in_scale, in_zp, wt, ws, shifts=FAST_SHIFTS if fast else ALL_SHIFTS)
    return depthwise_op(d, m, x, ins, y, pad, (sh, sw), (dh, dw), mult, 0.7 if fast else 0.0)


def fully_connected(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    depth = d.pick([d.int(1, 64), 4 * d.int(1, 64), d.int(65, 700), d.int(700, 2100), d.int(8190, 8300)],
                   [4, 3, 2, 1, 0.3])
    units = d.pick([d.int(1, 12), 4 * d.int(1, 8), d.int(13, 40)])
    batches = max(1, min(d.pick([1, 1, 2, d.int(1, 5)]), MAX_MACS // (depth * units)))
    units = max(1, min(units, MAX_MACS // (depth * batches)))
    in_shape = d.pick([(batches, depth), (1, batches, depth), (batches, 1, 1, depth), (batches * depth,)],
                      [6, 2, 1, 1 if batches == 1 else 0])
    per_channel = d.rng.random() < 0.3
    wzp = 0 if per_channel or d.rng.random() < 0.7 else d.zp()
    in_scale, in_zp = d.scale(), d.zp()
    d.note(in_shape=in_shape, units=units, per_channel=per_channel, weights_zp=wzp, in_scale=in_scale, in_zp=in_zp)
    x = m.tensor(in_shape, np.int8, in_scale, in_zp)
    w = d.weights((units, depth), lo=d.pick([-127, -128]))
    ws = _weight_scales(d, units, per_channel)
    ins = [x, m.tensor(w.shape, np.int8, ws, wzp, w)]
    bound = np.abs(w.astype(np.int64) - wzp).sum(1) * x_span(in_zp)
    b = _bias_tensor(d, m, bound, in_scale, ws)
    ins += [b] if b is not None else []
    y = _out_tensor(d, m, (batches, units), in_scale, in_zp, w, ws, fo=-wzp)
    act = d.act()
    d.note(act=act)
    m.op("FULLY_CONNECTED", ins, [y], {0: ("u8", act)})
    m.inputs, m.outputs = [x], [y]
    return m
