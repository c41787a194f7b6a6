"""The op generator's int16 cases (16x8: int16 activations, int8 weights, int64 or int32 bias),
one builder per op the engine runs on int16, named <OP>_S16 in opgen.OPS16. Same Draw, same
corners as the int8 builders (opgen_quant.py), widened: accumulators and biases out to the int64
requantisation's domain (+-2^47), output scales that put the int64 path's shift anywhere in
[-33, 7] (TFLM's stated range; we accept up to 14), int16 zero points where the op honours them
(QUANTIZE, DEQUANTIZE, PAD, MEAN, pooling) and 0 elsewhere (the others require it)."""

from __future__ import annotations

import numpy as np

from tests.firmware.opgen_macs import MAX_MACS, _channels, _weight_scales, _window, depthwise_op
from tests.firmware.opgen_quant import Draw, conv_out, f32
from tools.tflite_build import ModelBuilder

I16 = np.int16
B47 = 2**47 - 2**38 - 1  # the largest int64 bias we accept (ops_s16.c)


def zp16(d: Draw) -> int:
    """An int16 zero point for the ops that honour one (mostly 0, as converters make them)."""
    return d.pick([0, d.int(-3000, 3000), -32768, 32767, d.int(-5, 5)], [5, 2, 1, 1, 1])


def out_scale16(d: Draw, real_in: float, spread: float, name: str = "out") -> float:
    """Like Draw.out_scale, for int16 outputs: 'fit' maps +-spread over the int16 range, 'shift'
    puts the multiplier at 2^e (e in [-33, 8]) with its mantissa random or at either end."""
    mode = d.pick(["fit", "shift", "free"], [5, 4, 1])
    if mode == "fit":
        real = 2.0 ** d.rng.uniform(-1.5, 1.5) * 25000.0 / max(spread, 1.0)
    elif mode == "shift":
        mant = d.pick([d.rng.uniform(0.5, 1.0), 0.5, 1 - 2.0**-24, 0.5 + 2.0**-24, 1 - 2.0**-17])
        real = mant * 2.0 ** d.int(-33, 8)
    else:
        real = real_in / d.scale()
    out = f32(min(max(real_in / real, 2.0**-100), 2.0**100))
    d.note(**{f"{name}_scale_mode": mode, f"{name}_scale": out, f"{name}_real_multiplier": real_in / out})
    return out


def _bias(d: Draw, m: ModelBuilder, bound, in_scale, ws, int32_ok: bool):
    """int64 (TFLM's 16x8 default) or, where TFLM allows it, int32 (an int32 accumulator)."""
    n = len(bound)
    if int32_ok and d.rng.random() < 0.2:
        b = d.bias(np.asarray(bound, np.int64))
        d.note(bias_type="int32")
        if b is None:
            return None
        scales = [f32(in_scale * s) for s in ws] if isinstance(ws, list) else f32(in_scale * ws)
        return m.tensor((n,), np.int32, scales, 0, np.asarray(b, np.int64).astype(np.int32))
    mode = d.pick(["none", "small", "medium", "large", "edge"], [2, 4, 3, 2, 1])
    d.note(bias_type="int64", bias=mode)
    r = d.rng
    if mode == "none":
        return None
    b = {"small": lambda: r.integers(-2000, 2001, n),
         "medium": lambda: (r.integers(-1, 2, n) * np.asarray(bound, np.float64) * r.random(n)).astype(np.int64),
         "large": lambda: r.integers(-2**40, 2**40, n),
         "edge": lambda: np.where(r.random(n) < 0.5, 1, -1) * (B47 - r.integers(0, 3, n))}[mode]()
    scales = [f32(in_scale * s) for s in ws] if isinstance(ws, list) else f32(in_scale * ws)
    return m.tensor((n,), np.int64, scales, 0, np.asarray(b, np.int64))


def _acc_type_option(d: Draw, has_bias: bool) -> bool:
    """Without a bias, quantized_bias_type may ask TFLM for an int32 accumulator."""
    if has_bias or d.rng.random() < 0.8:
        return False
    d.note(quantized_bias_type="int32")
    return True


def _mac_out(d: Draw, m: ModelBuilder, shape, in_scale, w, ws, fo: int = 0) -> int:
    w0 = np.asarray(w, np.float64).reshape(w.shape[0], -1)[0] + fo
    spread = float(np.sqrt(np.sum(w0 * w0)) * 18918.0)  # rms of a uniform int16 input
    ws0 = ws[0] if isinstance(ws, list) else ws
    return m.tensor(shape, I16, out_scale16(d, in_scale * ws0, spread), 0)


def conv2d(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    groups = d.pick([1, 1, 1, 2])
    cin_g, cout = _channels(d), groups * d.pick([_channels(d), 1, 2])
    kh, kw, sh, sw, dh, dw, pad, h, wd = _window(d, cout, cin_g)
    n, in_scale = d.pick([1, 1, 2]), d.scale(-20, -2)
    d.note(shape=(n, h, wd, cin_g * groups), cout=cout, groups=groups, k=(kh, kw), stride=(sh, sw),
           dilation=(dh, dw), pad=pad, in_scale=in_scale)
    x = m.tensor((n, h, wd, cin_g * groups), I16, in_scale, 0)
    w = d.weights((cout, kh, kw, cin_g), lo=d.pick([-127, -128]))
    ws = _weight_scales(d, cout, d.rng.random() < 0.8)
    ins = [x, m.tensor(w.shape, np.int8, ws, 0, w, qdim=0)]
    b = _bias(d, m, np.abs(w).reshape(cout, -1).sum(1) * 32768, in_scale, ws, int32_ok=True)
    ins += [b] if b is not None else []
    y = _mac_out(d, m, (n, conv_out(h, kh, sh, dh, pad), conv_out(wd, kw, sw, dw, pad), cout), in_scale, w, ws)
    act = d.act()
    d.note(act=act)
    opts = {0: ("u8", pad), 1: ("i32", sw), 2: ("i32", sh), 3: ("u8", act), 4: ("i32", dw), 5: ("i32", dh)}
    if _acc_type_option(d, b is not None):
        opts[6] = ("u8", 2)
    m.op("CONV_2D", ins, [y], opts)
    m.inputs, m.outputs = [x], [y]
    return m


def depthwise_conv2d(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    c, mult = _channels(d), d.pick([1, 1, 2, d.int(2, 4)])
    kh, kw, sh, sw, dh, dw, pad, h, wd = _window(d, c * mult, 1)
    n, in_scale = d.pick([1, 1, 2]), d.scale(-20, -2)
    d.note(shape=(n, h, wd, c), mult=mult, k=(kh, kw), stride=(sh, sw), dilation=(dh, dw), pad=pad, in_scale=in_scale)
    x = m.tensor((n, h, wd, c), I16, in_scale, 0)
    oc = c * mult
    w = d.weights((1, kh, kw, oc), lo=d.pick([-127, -128]))
    ws = _weight_scales(d, oc, d.rng.random() < 0.8)
    ins = [x, m.tensor(w.shape, np.int8, ws, 0, w, qdim=3)]
    b = _bias(d, m, np.abs(w).reshape(-1, oc).sum(0) * 32768, in_scale, ws, int32_ok=False)
    ins += [b] if b is not None else []
    y = _mac_out(d, m, (n, conv_out(h, kh, sh, dh, pad), conv_out(wd, kw, sw, dw, pad), oc), in_scale,
                 np.moveaxis(w, 3, 0), ws)
    return depthwise_op(d, m, x, ins, y, pad, (sh, sw), (dh, dw), mult)


def fully_connected(d: Draw) -> ModelBuilder:
    m = ModelBuilder()
    depth = d.pick([d.int(1, 64), 4 * d.int(1, 64), d.int(65, 700), d.int(700, 2100)], [4, 3, 2, 1])
    units = d.pick([d.int(1, 12), 4 * d.int(1, 8), d.int(13, 40)])
    batches = max(1, min(d.pick([1, 1, 2, d.int(1, 5)]), MAX_MACS // (depth * units)))
    units = max(1, min(units, MAX_MACS // (depth * batches)))
    in_shape = d.pick([(batches, depth), (1, batches, depth), (batches, 1, 1, depth)], [6, 2, 1])
    per_channel = d.rng.random() < 0.3
    wzp = 0 if per_channel or d.rng.random() < 0.8 else d.zp()
    in_scale = d.scale(-20, -2)
    d.note(in_shape=in_shape, units=units, per_channel=per_channel, weights_zp=wzp, in_scale=in_scale)
    x = m.tensor(in_shape, I16, in_scale, 0)
    w = d.weights((units, depth), lo=d.pick([-127, -128]))
    ws = _weight_scales(d, units, per_channel)
    ins = [x, m.tensor(w.shape, np.int8, ws, wzp, w)]
    b = _bias(d, m, np.abs(w.astype(np.int64) - wzp).sum(1) * 32768, in_scale, ws, int32_ok=True)
    ins += [b] if b is not None else []
    y = _mac_out(d, m, (batches, units), in_scale, w, ws, fo=-wzp)
    act = d.act()
    d.note(act=act)
    opts = {0: ("u8", act)}
    if _acc_type_option(d, b is not None):
        opts[4] = ("u8", 2)
    m.op("FULLY_CONNECTED", ins, [y], opts)
    m.inputs, m.outputs = [x], [y]
    return m
