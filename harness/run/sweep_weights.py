"""Weight-bit sweep: put an int8 model's weights on a k-bit per-channel symmetric grid, kept in
int8 storage, by editing the flatbuffer's weight, scale and bias bytes in place (no TensorFlow).

For each channel c with int8 weights w (scale s_c) and k bits: qmax = 2^(k−1) − 1,
s'_c = max|w·s_c| / qmax, w' = round(w·s_c / s'_c) ∈ [−qmax, qmax], and the int32 bias
b' = round(b·s_in·s_c / (s_in·s'_c)) so that the float bias is kept. Activations are unchanged.
"""

from __future__ import annotations


import numpy as np

from ..core.flatbuf import Table, root
from ..core.tflite import op_name
from ..errors import ModelError, UnsupportedModel

WEIGHT_OPS = {"CONV_2D": 1, "DEPTHWISE_CONV_2D": 1, "FULLY_CONNECTED": 1}


def _round(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


class _Tensor:
    """Spans of one tensor's buffer bytes and quantisation scale vector inside the model."""

    def __init__(self, t: Table, buffers: list[Table], where: str) -> None:
        self.type = int(t.scalar(1, "b", 0, "type"))
        self.shape = tuple(int(d) for d in t.scalars(0, "i", "shape"))
        q = t.table(4, "quantization")
        self.scale_span = q.vector_span(2, 4, "scale") if q else None
        self.axis = int(q.scalar(6, "i", 0, "quantized_dimension")) if q else 0
        b = int(t.scalar(2, "I", 0, "buffer"))
        if b >= len(buffers):
            raise ModelError(f"{where}: buffer index {b} out of range")
        self.buffer = b
        self.data_span = buffers[b].bytes_span(0, "data")

    def scales(self, buf: bytearray) -> np.ndarray:
        start, n = self.scale_span
        return np.frombuffer(bytes(buf[start:start + 4 * n]), "<f4").astype(np.float64)

    def write_scales(self, buf: bytearray, s: np.ndarray) -> None:
        start, n = self.scale_span
        buf[start:start + 4 * n] = s.astype("<f4").tobytes()


def _weights(buf: bytearray, t: _Tensor) -> np.ndarray:
    start, n = t.data_span
    return np.frombuffer(bytes(buf[start:start + n]), np.int8).reshape(t.shape).astype(np.float64)


def _requantize_op(buf: bytearray, inp: _Tensor, filt: _Tensor, bias: _Tensor | None, bits: int) -> None:
    qmax = 2 ** (bits - 1) - 1
    s = filt.scales(buf)
    w = _weights(buf, filt)
    axis = filt.axis if len(s) > 1 else None
    other = tuple(i for i in range(w.ndim) if i != axis)
    shape = [1] * w.ndim
    if axis is not None:
        shape[axis] = len(s)
    wf = w * s.reshape(shape)
    absmax = np.abs(wf).max(axis=other) if axis is not None else np.array([np.abs(wf).max()])
    s_new = np.where(absmax > 0, absmax / qmax, s).astype(np.float32).astype(np.float64)
    w_new = np.clip(_round(wf / s_new.reshape(shape)), -qmax, qmax).astype(np.int8)
    start, n = filt.data_span
    buf[start:start + n] = w_new.tobytes()
    filt.write_scales(buf, s_new)
    if bias is None or bias.data_span is None:
        return
    s_in = float(inp.scales(buf)[0])
    bstart, bn = bias.data_span
    b = np.frombuffer(bytes(buf[bstart:bstart + bn]), "<i4").astype(np.float64)
    b_new = _round(b * s / s_new)  # s_in cancels: b·s_in·s / (s_in·s')
    buf[bstart:bstart + bn] = np.clip(b_new, -2 ** 31, 2 ** 31 - 1).astype("<i4").tobytes()
    if bias.scale_span and bias.scale_span[1] == len(s_new):
        bias.write_scales(buf, s_in * s_new)


def rewrite_weights(model: bytes, bits: int, where: str) -> tuple[bytes, dict]:
    """The model with every CONV/DEPTHWISE/FC weight tensor on a `bits`-bit grid, and a summary."""
    if not 2 <= bits <= 8:
        raise ModelError(f"--bits {bits}: weight bits must be between 2 and 8")
    m = root(model, b"TFL3", where)
    codes = [max(int(c.scalar(0, "b")), int(c.scalar(3, "i"))) for c in m.tables(1, "operator_codes")]
    buffers = m.tables(4, "buffers")
    g = m.tables(2, "subgraphs")[0]
    tensors = g.tables(0, "tensors")
    buf = bytearray(model)
    done: set[int] = set()
    summary = {"bits": bits, "layers": 0, "per_tensor_layers": 0}
    for i, op in enumerate(g.tables(3, "operators")):
        name = op_name(codes[int(op.scalar(0, "I"))])
        if name not in WEIGHT_OPS:
            continue
        ins = op.scalars(1, "i", "inputs")
        t = [(_Tensor(tensors[k], buffers, where) if 0 <= k < len(tensors) else None) for k in ins]
        filt, bias = t[1], (t[2] if len(t) > 2 else None)
        if filt is None or filt.type != 9 or filt.data_span is None or filt.scale_span is None:
            raise UnsupportedModel(f"{where}: {name} at node {i} has no constant int8 weights with scales; "
                                   "the sweep needs a full-integer int8 model")
        if filt.buffer in done:
            continue
        done.add(filt.buffer)
        summary["layers"] += 1
        summary["per_tensor_layers"] += int(filt.scale_span[1] == 1)
        _requantize_op(buf, t[0], filt, bias, bits)
    if not summary["layers"]:
        raise UnsupportedModel(f"{where}: no CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED weights to sweep")
    return bytes(buf), summary
