"""Whole 16x8 models built without TensorFlow (tflite_build.py), for the int16 proofs when the
recipes' converted models are absent: every int16 op in a graph, tensors passed from op to op,
mixed int8/int16 sections and float input/output around QUANTIZE/DEQUANTIZE. Scales follow a
rough rms estimate of each activation, so values spread over the int16 range instead of
saturating; weights and biases are seeded random.

    MODELS["s16_cnn"](seed) -> bytes      # float in, QUANTIZE, CONV, DEPTHWISE, pool, FC, SOFTMAX
    MODELS["s16_mix"](seed) -> bytes      # two int16 inputs, ADD, TANH, LOGISTIC, MUL, PAD, ...
"""

from __future__ import annotations

import numpy as np

from tools.tflite_build import ModelBuilder

I16 = np.int16


def _scale(rms: float) -> float:
    """An int16 scale that puts +-4 rms at the range's edge."""
    return float(np.float32(4.0 * max(rms, 1e-6) / 32767.0))


class _Net:
    """A ModelBuilder with seeded random int8 weights and int64 biases, tracking activation rms."""

    def __init__(self, seed: int):
        self.m, self.rng = ModelBuilder(), np.random.default_rng(seed)

    def weights(self, shape, per_channel_dim: int | None):
        w = self.rng.integers(-127, 128, shape)
        n = shape[per_channel_dim] if per_channel_dim is not None else 1
        ws = [float(np.float32(s)) for s in 2.0 ** self.rng.uniform(-8, -5, n)]
        return w, (ws if per_channel_dim is not None else ws[0])

    def mac(self, op: str, x: int, in_scale: float, rms: float, w, ws, taps: int, out_shape, opts, qdim=0):
        """CONV/DEPTHWISE/FC with an int64 bias; returns (output tensor, its scale, its rms)."""
        wsa = np.atleast_1d(np.asarray(ws, np.float64))
        out_rms = rms * np.sqrt(taps) * float(np.sqrt(np.mean((w * wsa.mean()) ** 2)))
        n_out = out_shape[-1]
        bias = self.rng.integers(-2000, 2000, n_out)
        bscale = [float(np.float32(in_scale * s)) for s in wsa] if len(wsa) > 1 else float(np.float32(in_scale * wsa[0]))
        wt = self.m.tensor(w.shape, np.int8, ws, 0, w, qdim=qdim)
        bt = self.m.tensor((n_out,), np.int64, bscale, 0, bias)
        s = _scale(out_rms)
        y = self.m.tensor(out_shape, I16, s, 0)
        self.m.op(op, [x, wt, bt], [y], opts)
        return y, s, out_rms


def s16_cnn(seed: int = 0) -> bytes:
    """The digits network's shape on int16: float [1,8,8,1] -> ... -> float probabilities [1,10]."""
    n = _Net(seed)
    m = n.m
    xf = m.tensor((1, 8, 8, 1), np.float32)
    s0 = _scale(0.6)
    x = m.tensor((1, 8, 8, 1), I16, s0, 0)
    m.op("QUANTIZE", [xf], [x])
    w, ws = n.weights((8, 3, 3, 1), 0)
    h, s, r = n.mac("CONV_2D", x, s0, 0.6, w, ws, 9, (1, 8, 8, 8),
                    {0: ("u8", 0), 1: ("i32", 1), 2: ("i32", 1), 3: ("u8", 3)})
    w, ws = n.weights((1, 3, 3, 8), 3)
    h, s, r = n.mac("DEPTHWISE_CONV_2D", h, s, r / 1.4, w, ws, 9, (1, 8, 8, 8),
                    {0: ("u8", 0), 1: ("i32", 1), 2: ("i32", 1), 3: ("i32", 1), 4: ("u8", 1)}, qdim=3)
    w, ws = n.weights((16, 1, 1, 8), 0)
    h, s, r = n.mac("CONV_2D", h, s, r / 1.4, w, ws, 8, (1, 8, 8, 16),
                    {0: ("u8", 1), 1: ("i32", 1), 2: ("i32", 1), 3: ("u8", 1)})
    p = m.tensor((1, 4, 4, 16), I16, s, 0)
    m.op("MAX_POOL_2D", [h], [p], {0: ("u8", 1), 1: ("i32", 2), 2: ("i32", 2), 3: ("i32", 2), 4: ("i32", 2)})
    f = m.tensor((1, 256), I16, s, 0)
    m.op("RESHAPE", [p, m.tensor((2,), np.int32, data=np.array([1, 256]))], [f])
    w, ws = n.weights((32, 256), 0)
    h, s, r = n.mac("FULLY_CONNECTED", f, s, r, w, ws, 256, (1, 32), {0: ("u8", 1)})
    w, ws = n.weights((10, 32), None)
    h, s, r = n.mac("FULLY_CONNECTED", h, s, r / 1.4, w, ws, 32, (1, 10), {0: ("u8", 0)})
    prob = m.tensor((1, 10), I16, 2.0**-15, 0)
    m.op("SOFTMAX", [h], [prob], {0: ("f32", 1.0)})
    out = m.tensor((1, 10), np.float32)
    m.op("DEQUANTIZE", [prob], [out])
    m.inputs, m.outputs = [xf], [out]
    return m.build()


def s16_mix(seed: int = 0) -> bytes:
    """Two int16 inputs through the elementwise and data-movement ops, an int8 section between
    QUANTIZEs, and two outputs (int16 and float)."""
    n = _Net(seed)
    m = n.m
    sa, sb = _scale(1.0), _scale(0.5)
    a, b = m.tensor((1, 4, 4, 8), I16, sa, 0), m.tensor((1, 1, 1, 8), I16, sb, 0)
    t1 = m.tensor((1, 4, 4, 8), I16, _scale(1.2), 0)
    m.op("ADD", [a, b], [t1], {0: ("u8", 0)})
    q15 = 2.0**-15
    t2, t3, t4 = (m.tensor((1, 4, 4, 8), I16, q15, 0) for _ in range(3))
    m.op("TANH", [t1], [t2])
    m.op("LOGISTIC", [a], [t3])
    m.op("MUL", [t2, t3], [t4], {0: ("u8", 0)})
    t5 = m.tensor((1, 6, 5, 8), I16, q15, 0)
    m.op("PAD", [t4, m.tensor((4, 2), np.int32, data=np.array([[0, 0], [1, 1], [0, 1], [0, 0]]))], [t5])
    t6 = m.tensor((1, 3, 2, 8), I16, q15, 0)
    m.op("AVERAGE_POOL_2D", [t5], [t6], {0: ("u8", 1), 1: ("i32", 2), 2: ("i32", 2), 3: ("i32", 2), 4: ("i32", 2)})
    t7 = m.tensor((1, 3, 2, 16), I16, q15, 0)
    m.op("CONCATENATION", [t6, t6], [t7], {0: ("i32", 3)})
    t8 = m.tensor((1, 1, 1, 16), I16, q15, 0)
    m.op("MEAN", [t7, m.tensor((2,), np.int32, data=np.array([1, 2]))], [t8], {0: ("bool", True)})
    t9 = m.tensor((1, 16), np.int8, 1 / 128, 0)
    m.op("QUANTIZE", [m_reshape(m, t8, (1, 16), q15)], [t9])
    w, ws = n.weights((8, 16), None)
    t10 = m.tensor((1, 8), np.int8, _scale(1.0) * 256, 0)
    m.op("FULLY_CONNECTED", [t9, m.tensor(w.shape, np.int8, ws, 0, w),
                             m.tensor((8,), np.int32, float(np.float32(ws / 128)), 0, n.rng.integers(-500, 500, 8))],
         [t10], {0: ("u8", 0)})
    t11 = m.tensor((1, 8), I16, _scale(1.0), 0)
    m.op("QUANTIZE", [t10], [t11])
    out = m.tensor((1, 8), np.float32)
    m.op("DEQUANTIZE", [t11], [out])
    m.inputs, m.outputs = [a, b], [t6, out]
    return m.build()


def m_reshape(m: ModelBuilder, x: int, shape, scale: float) -> int:
    y = m.tensor(shape, I16, scale, 0)
    m.op("RESHAPE", [x, m.tensor((len(shape),), np.int32, data=np.array(shape))], [y])
    return y


MODELS = {"s16_cnn": s16_cnn, "s16_mix": s16_mix}
