"""Single-op int8 models with random weights and quantisation, one builder per op and option
(dilation, groups, depth multiplier, per-tensor weights, fused activations, broadcast, axes ...):
the cases of tests/firmware/test_native_ops_matrix.py and the kernels of bench/perf_kernels.py.
Built with tools/tflite_build.py, without TensorFlow."""

from __future__ import annotations

import numpy as np

from tools.tflite_build import ModelBuilder

NONE, RELU, RELU_N1, RELU6 = 0, 1, 2, 3
SAME, VALID = 0, 1


def _q(rng):
    return float(rng.uniform(0.01, 0.08)), int(rng.integers(-30, 30))


def _acc_q(rng, in_scale, w_scales, depth):
    """An output scale that keeps a random-weight accumulation mostly inside int8."""
    spread = float(np.mean(w_scales)) * in_scale * 127 * 74 * np.sqrt(depth)
    return spread / 90, int(rng.integers(-30, 30))


def _act_in(m, rng, shape, dtype=np.int8):
    s, z = _q(rng)
    return m.tensor(shape, dtype, s, z)


def _dead(w, ws, b, dead, axis):
    """Channels 0..dead-1 pruned as real models have them: weights 0, a scale near 1e-10 (a shift
    far below -22) and a bias near +-2^30."""
    for c in range(dead):
        np.moveaxis(w, axis, 0)[c] = 0
        ws[c] = 1e-10 * (c + 1)
        if b is not None:
            b[c] = (1 << 30) * (1 if c % 2 else -1) - 64 * c


def conv(rng, *, in_shape, oc, k, stride=(1, 1), dil=(1, 1), pad=SAME, act=NONE, per_channel=True,
         groups=1, bias=True, big_bias=False, dead=0):
    """big_bias: channel 0's bias is 2^30, which rules out the DSP kernels' fast requantisation
    (their |acc| < 2^30 bound) for the whole op. dead: pruned channels (_dead)."""
    m = ModelBuilder()
    x = _act_in(m, rng, in_shape)
    ic = in_shape[3] // groups
    w = rng.integers(-127, 128, (oc, k[0], k[1], ic))
    ws = list(rng.uniform(0.002, 0.02, oc)) if per_channel else float(rng.uniform(0.002, 0.02))
    b = rng.integers(-2000, 2000, oc) if bias else None
    _dead(w, ws, b, dead, 0)
    wt = m.tensor(w.shape, np.int8, ws, 0, w, qdim=0)
    ins = [x, wt]
    if bias:
        if big_bias:
            b[0] = 1 << 30
        ins.append(m.tensor((oc,), np.int32, 0.0001, 0, b))
    out_h = _out(in_shape[1], k[0], stride[0], dil[0], pad)
    out_w = _out(in_shape[2], k[1], stride[1], dil[1], pad)
    y = m.tensor((in_shape[0], out_h, out_w, oc), np.int8, *_acc_q(rng, m.tensors[x].scales[0], ws, k[0] * k[1] * ic))
    m.op("CONV_2D", ins, [y], {0: ("u8", pad), 1: ("i32", stride[1]), 2: ("i32", stride[0]), 3: ("u8", act),
                               4: ("i32", dil[1]), 5: ("i32", dil[0])})
    m.inputs, m.outputs = [x], [y]
    return m


def _out(n, k, s, d, pad):
    eff = (k - 1) * d + 1
    return (n + s - 1) // s if pad == SAME else (n - eff + s) // s


def dwconv(rng, *, in_shape, mult, k, stride=(1, 1), dil=(1, 1), pad=SAME, act=NONE, per_channel=True, bias=True,
           bias_span=2000, w_lo=-127, in_zp=None, dead=0):
    m = ModelBuilder()
    x = _act_in(m, rng, in_shape) if in_zp is None else m.tensor(in_shape, np.int8, _q(rng)[0], in_zp)
    oc = in_shape[3] * mult
    w = rng.integers(w_lo, 128, (1, k[0], k[1], oc))
    ws = list(rng.uniform(0.002, 0.02, oc)) if per_channel else float(rng.uniform(0.002, 0.02))
    b = rng.integers(-bias_span, bias_span, oc) if bias else None
    _dead(w, ws, b, dead, 3)
    wt = m.tensor(w.shape, np.int8, ws, 0, w, qdim=3)
    ins = [x, wt]
    if bias:
        ins.append(m.tensor((oc,), np.int32, 0.0001, 0, b))
    y = m.tensor((in_shape[0], _out(in_shape[1], k[0], stride[0], dil[0], pad),
                  _out(in_shape[2], k[1], stride[1], dil[1], pad), oc), np.int8,
                 *_acc_q(rng, m.tensors[x].scales[0], ws, k[0] * k[1]))
    m.op("DEPTHWISE_CONV_2D", ins, [y], {0: ("u8", pad), 1: ("i32", stride[1]), 2: ("i32", stride[0]),
                                         3: ("i32", mult), 4: ("u8", act), 5: ("i32", dil[1]),
                                         6: ("i32", dil[0])})
    m.inputs, m.outputs = [x], [y]
    return m


def fc(rng, *, in_shape, units, act=NONE, per_channel=False, bias=True, wzp=0, dead=0):
    m = ModelBuilder()
    x = _act_in(m, rng, in_shape)
    depth = in_shape[-1]
    w = rng.integers(-127, 128, (units, depth))
    ws = list(rng.uniform(0.002, 0.02, units)) if per_channel else float(rng.uniform(0.002, 0.02))
    b = rng.integers(-3000, 3000, units) if bias else None
    _dead(w, ws, b, dead, 0)
    ins = [x, m.tensor(w.shape, np.int8, ws, wzp, w)]
    if bias:
        ins.append(m.tensor((units,), np.int32, 0.0001, 0, b))
    batches = int(np.prod(in_shape)) // depth
    y = m.tensor((batches, units), np.int8, *_acc_q(rng, m.tensors[x].scales[0], ws, depth))
    m.op("FULLY_CONNECTED", ins, [y], {0: ("u8", act)})
    m.inputs, m.outputs = [x], [y]
    return m


def pool(rng, kind, *, in_shape, k, stride, pad, act=NONE):
    m = ModelBuilder()
    s, z = _q(rng)
    x = m.tensor(in_shape, np.int8, s, z)
    y = m.tensor((in_shape[0], _out(in_shape[1], k[0], stride[0], 1, pad), _out(in_shape[2], k[1], stride[1], 1, pad),
                  in_shape[3]), np.int8, s, z)
    m.op(kind, [x], [y], {0: ("u8", pad), 1: ("i32", stride[1]), 2: ("i32", stride[0]), 3: ("i32", k[1]),
                          4: ("i32", k[0]), 5: ("u8", act)})
    m.inputs, m.outputs = [x], [y]
    return m


def binary(rng, kind, a_shape, b_shape, act=NONE):
    m = ModelBuilder()
    a, b = _act_in(m, rng, a_shape), _act_in(m, rng, b_shape)
    out_shape = np.broadcast_shapes(a_shape, b_shape)
    y = m.tensor(out_shape, np.int8, *_q(rng))
    m.op(kind, [a, b], [y], {0: ("u8", act)})
    m.inputs, m.outputs = [a, b], [y]
    return m


def softmax(rng, shape, beta, in_scale):
    m = ModelBuilder()
    x = m.tensor(shape, np.int8, in_scale, int(rng.integers(-20, 20)))
    y = m.tensor(shape, np.int8, 1 / 256, -128)
    m.op("SOFTMAX", [x], [y], {0: ("f32", beta)})
    m.inputs, m.outputs = [x], [y]
    return m


def logistic(rng, shape, in_scale, in_zp):
    m = ModelBuilder()
    x = m.tensor(shape, np.int8, in_scale, in_zp)
    y = m.tensor(shape, np.int8, 1 / 256, -128)
    m.op("LOGISTIC", [x], [y])
    m.inputs, m.outputs = [x], [y]
    return m


def quantize(rng, shape, from_float, out_scale, out_zp):
    m = ModelBuilder()
    x = m.tensor(shape, np.float32) if from_float else m.tensor(shape, np.int8, *_q(rng))
    y = m.tensor(shape, np.int8, out_scale, out_zp)
    m.op("QUANTIZE", [x], [y])
    m.inputs, m.outputs = [x], [y]
    return m


def dequantize(rng, shape):
    m = ModelBuilder()
    x = _act_in(m, rng, shape)
    y = m.tensor(shape, np.float32)
    m.op("DEQUANTIZE", [x], [y])
    m.inputs, m.outputs = [x], [y]
    return m


def pad(rng, shape, pads, constant=None):
    m = ModelBuilder()
    s, z = _q(rng)
    x = m.tensor(shape, np.int8, s, z)
    p = m.tensor((len(shape), 2), np.int32, data=np.array(pads, dtype=np.int32))
    ins = [x, p]
    if constant is not None:
        ins.append(m.tensor((1,), np.int8, s, z, np.array([constant], dtype=np.int8)))
    y = m.tensor(tuple(d + a + b for d, (a, b) in zip(shape, pads)), np.int8, s, z)
    m.op("PADV2" if constant is not None else "PAD", ins, [y])
    m.inputs, m.outputs = [x], [y]
    return m


def mean(rng, shape, axes, keep):
    m = ModelBuilder()
    x = _act_in(m, rng, shape)
    ax = m.tensor((len(axes),), np.int32, data=np.array(axes, dtype=np.int32))
    red = {a % len(shape) for a in axes}
    out = tuple(1 if i in red else d for i, d in enumerate(shape)) if keep else \
        tuple(d for i, d in enumerate(shape) if i not in red)
    y = m.tensor(out, np.int8, *_q(rng))
    m.op("MEAN", [x, ax], [y], {0: ("bool", keep)})
    m.inputs, m.outputs = [x], [y]
    return m


def concat(rng, shapes, axis):
    m = ModelBuilder()
    s, z = _q(rng)
    xs = [m.tensor(sh, np.int8, s, z) for sh in shapes]
    a = axis % len(shapes[0])
    out = list(shapes[0])
    out[a] = sum(sh[a] for sh in shapes)
    y = m.tensor(tuple(out), np.int8, s, z)
    m.op("CONCATENATION", xs, [y], {0: ("i32", axis)})
    m.inputs, m.outputs = xs, [y]
    return m


def reshape(rng, shape, new_shape):
    m = ModelBuilder()
    s, z = _q(rng)
    x = m.tensor(shape, np.int8, s, z)
    shp = m.tensor((len(new_shape),), np.int32, data=np.array(new_shape, dtype=np.int32))
    y = m.tensor(new_shape, np.int8, s, z)
    m.op("RESHAPE", [x, shp], [y], {0: ("vec_i32", list(new_shape))})
    m.inputs, m.outputs = [x], [y]
    return m


# The kernels of issue #17 (MLPerf Tiny shapes): pruned channels in the fast requantisation,
# 3x3 depthwise at stride 2 and with partial blocks, first layers, ADD and pooling fast paths.
