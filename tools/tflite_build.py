"""A minimal .tflite writer for tests: one subgraph, int8/float tensors, builtin ops with options.

Field ids and union numbers are the TFLite schema's (schema.fbs). Uses the `flatbuffers`
package (a dependency of tflite-micro) for the byte layout only; no generated code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import flatbuffers
import numpy as np

from harness.core.tflite import TYPE_CODES

# BuiltinOperator codes and the BuiltinOptions union number of their options table.
OPS = {"ADD": (0, 11), "AVERAGE_POOL_2D": (1, 5), "CONCATENATION": (2, 10), "CONV_2D": (3, 1),
       "DEPTHWISE_CONV_2D": (4, 2), "DEQUANTIZE": (6, 0), "FULLY_CONNECTED": (9, 8), "LOGISTIC": (14, 0),
       "MAX_POOL_2D": (17, 5), "MUL": (18, 21), "RESHAPE": (22, 17), "SOFTMAX": (25, 9), "PAD": (34, 22),
       "MEAN": (40, 27), "PADV2": (60, 0), "QUANTIZE": (114, 0), "TANH": (28, 0), "SVDF": (27, 0),
       "UNIDIRECTIONAL_SEQUENCE_LSTM": (44, 0), "GELU": (150, 0)}


@dataclass
class _Tensor:
    shape: tuple
    dtype: type
    scales: list | None
    zps: list | None
    qdim: int
    buffer: int
    variable: bool = False
    sparse: bool = False


@dataclass
class ModelBuilder:
    tensors: list = field(default_factory=list)
    buffers: list = field(default_factory=lambda: [b""])
    ops: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    # Buffers whose data starts at 4 mod 16 (as TensorFlow 2.21 leaves a 16x8 model's int64 biases), and
    # buffers stored after the flatbuffer (the large-model layout, Buffer.offset/size).
    misalign: set = field(default_factory=set)
    external: set = field(default_factory=set)

    def tensor(self, shape, dtype=np.int8, scale=None, zp=0, data=None, qdim=0, variable=False, sparse=False) -> int:
        """A tensor; `scale` a float (per-tensor) or a list (per-channel); `data` makes it constant;
        variable / sparse set is_variable / an (empty) sparsity table, for refusal tests."""
        buf = 0
        if data is not None:
            arr = np.ascontiguousarray(data, dtype=dtype)
            assert arr.shape == tuple(shape), (arr.shape, shape)
            self.buffers.append(arr.tobytes())
            buf = len(self.buffers) - 1
        scales = None if scale is None else (list(scale) if np.ndim(scale) else [float(scale)])
        zps = None if scales is None else ([int(zp)] * len(scales) if np.ndim(zp) == 0 else list(zp))
        self.tensors.append(_Tensor(tuple(int(d) for d in shape), dtype, scales, zps, qdim, buf, variable, sparse))
        return len(self.tensors) - 1

    def op(self, name: str, inputs, outputs, options: dict | None = None) -> None:
        """options: {field id: (kind, value)}, kind in 'u8', 'i32', 'f32', 'bool', 'vec_i32'."""
        self.ops.append((name, list(inputs), list(outputs), options or {}))

    # ---- serialisation ----
    def build(self) -> bytes:
        """The model; `external` buffers' bytes follow the flatbuffer, each at an absolute offset the
        tables name (a first pass with placeholder offsets gives the flatbuffer's size: u64 fields)."""
        if not self.external:
            return self._build({})
        head, tail, where = self._build({i: 2 for i in self.external}), bytearray(), {}
        for i in sorted(self.external):
            tail += bytes((4 * (i in self.misalign) - len(head) - len(tail)) % 16)
            where[i] = len(head) + len(tail)
            tail += self.buffers[i]
        return self._build(where) + bytes(tail)

    def _build(self, external: dict) -> bytes:
        b = flatbuffers.Builder(4096)
        names = sorted({o[0] for o in self.ops})
        buf_offs = [self._buffer(b, d, i in self.misalign, external.get(i)) for i, d in enumerate(self.buffers)]
        ten_offs = [self._tensor(b, t) for t in self.tensors]
        op_offs = [self._op(b, o, names) for o in self.ops]
        code_offs = [self._opcode(b, n) for n in names]
        sg_t, sg_i, sg_o, sg_ops = (self._offsets(b, ten_offs), self._i32s(b, self.inputs),
                                    self._i32s(b, self.outputs), self._offsets(b, op_offs))
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, sg_t, 0)
        b.PrependUOffsetTRelativeSlot(1, sg_i, 0)
        b.PrependUOffsetTRelativeSlot(2, sg_o, 0)
        b.PrependUOffsetTRelativeSlot(3, sg_ops, 0)
        sg = b.EndObject()
        codes, sgs, bufs = self._offsets(b, code_offs), self._offsets(b, [sg]), self._offsets(b, buf_offs)
        desc = b.CreateString("hbtest")
        b.StartObject(5)
        b.PrependUint32Slot(0, 3, 0)
        b.PrependUOffsetTRelativeSlot(1, codes, 0)
        b.PrependUOffsetTRelativeSlot(2, sgs, 0)
        b.PrependUOffsetTRelativeSlot(3, desc, 0)
        b.PrependUOffsetTRelativeSlot(4, bufs, 0)
        b.Finish(b.EndObject(), file_identifier=b"TFL3")
        return bytes(b.Output())

    @staticmethod
    def _i32s(b, vals):
        b.StartVector(4, len(vals), 4)
        for v in reversed(vals):
            b.PrependInt32(int(v))
        return b.EndVector()

    @staticmethod
    def _offsets(b, offs):
        b.StartVector(4, len(offs), 4)
        for o in reversed(offs):
            b.PrependUOffsetTRelative(o)
        return b.EndVector()

    @staticmethod
    def _buffer(b, data: bytes, misalign: bool = False, offset: int | None = None):
        vec = None
        if data and offset is None:  # 16-byte aligned (the engine reads weights in place), copied in one slice
            if misalign:  # built back to front: 4 more bytes to a 16-byte boundary put the data at 4 mod 16
                b.Prep(16, len(data) + 4)
            b.StartVector(1, len(data), 4 if misalign else 16)
            b.head -= len(data)
            b.Bytes[b.head:b.head + len(data)] = data
            vec = b.EndVector()
        b.StartObject(3)
        if vec is not None:
            b.PrependUOffsetTRelativeSlot(0, vec, 0)
        if offset is not None:
            b.PrependUint64Slot(1, offset, 0)
            b.PrependUint64Slot(2, len(data), 0)
        return b.EndObject()

    def _tensor(self, b, t: _Tensor):
        shape = self._i32s(b, t.shape)
        quant = None
        if t.scales is not None:
            b.StartVector(4, len(t.scales), 4)
            for s in reversed(t.scales):
                b.PrependFloat32(float(s))
            sc = b.EndVector()
            b.StartVector(8, len(t.zps), 8)
            for z in reversed(t.zps):
                b.PrependInt64(int(z))
            zp = b.EndVector()
            b.StartObject(7)
            b.PrependUOffsetTRelativeSlot(2, sc, 0)
            b.PrependUOffsetTRelativeSlot(3, zp, 0)
            b.PrependInt32Slot(6, t.qdim, 0)
            quant = b.EndObject()
        sparsity = None
        if t.sparse:
            b.StartObject(3)
            sparsity = b.EndObject()
        b.StartObject(7)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        b.PrependInt8Slot(1, t.dtype if isinstance(t.dtype, int) else TYPE_CODES[np.dtype(t.dtype).name], 0)  # or a raw TensorType number
        b.PrependUint32Slot(2, t.buffer, 0)
        if quant is not None:
            b.PrependUOffsetTRelativeSlot(4, quant, 0)
        b.PrependBoolSlot(5, t.variable, False)
        if sparsity is not None:
            b.PrependUOffsetTRelativeSlot(6, sparsity, 0)
        return b.EndObject()

    def _op(self, b, op, names):
        name, ins, outs, opts = op
        options = self._options(b, opts)
        vi, vo = self._i32s(b, ins), self._i32s(b, outs)
        b.StartObject(5)
        b.PrependUint32Slot(0, names.index(name), 0)
        b.PrependUOffsetTRelativeSlot(1, vi, 0)
        b.PrependUOffsetTRelativeSlot(2, vo, 0)
        if options is not None:
            b.PrependUint8Slot(3, OPS[name][1], 0)
            b.PrependUOffsetTRelativeSlot(4, options, 0)
        return b.EndObject()

    def _options(self, b, opts):
        if not opts:
            return None
        vecs = {slot: self._i32s(b, v) for slot, (k, v) in opts.items() if k == "vec_i32"}
        b.StartObject(max(int(s) for s in opts) + 1)
        for slot, (kind, v) in opts.items():
            s = int(slot)
            b.ForceDefaults(True)
            if kind == "u8":
                b.PrependUint8Slot(s, int(v), 0)
            elif kind == "i32":
                b.PrependInt32Slot(s, int(v), 0)
            elif kind == "f32":
                b.PrependFloat32Slot(s, float(v), 0.0)
            elif kind == "bool":
                b.PrependBoolSlot(s, bool(v), False)
            elif kind == "vec_i32":
                b.PrependUOffsetTRelativeSlot(s, vecs[slot], 0)
            b.ForceDefaults(False)
        return b.EndObject()

    @staticmethod
    def _opcode(b, name):
        code = OPS[name][0]
        b.StartObject(4)
        b.PrependInt8Slot(0, min(code, 127), 0)
        b.PrependInt32Slot(2, 1, 1)
        b.PrependInt32Slot(3, code, 0)
        return b.EndObject()
