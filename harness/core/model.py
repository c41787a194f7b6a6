"""Inspect .tflite files without running them: ops, IO tensors, quantisation, sha256."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from .flatbuf import Table, root
from .tensors import TensorSpec
from .tflite import TENSOR_TYPES, op_name
from .verify import verify


@dataclass(frozen=True)
class ModelInfo:
    """What a model is, as recorded in run.json."""

    path: str
    name: str
    sha256: str
    size: int
    ops: tuple[str, ...]  # op name per node, in execution order
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    @property
    def is_int8(self) -> bool:
        return all(t.dtype == "int8" for t in self.inputs + self.outputs)


def read_model(path: str | Path) -> bytes:
    """The bytes of a model file, or a ModelError saying what to check."""
    p = Path(path)
    if not p.exists():
        raise ModelError(f"{p}: model file not found (check the path in the config or MODELS=)")
    if p.is_dir():
        raise ModelError(f"{p}: is a directory, expected a .tflite file")
    try:
        return p.read_bytes()
    except OSError as e:
        raise ModelError(f"{p}: cannot read ({e.strerror})") from None


def _tensor_spec(t: Table, where: str) -> TensorSpec:
    ttype = int(t.scalar(1, "b", 0, "type"))
    q = t.table(4, "quantization")
    scales = q.scalars(2, "f", "scale") if q else ()
    zps = q.scalars(3, "q", "zero_point") if q else ()
    return TensorSpec(
        name=t.string(3, "name"),
        shape=tuple(int(d) for d in t.scalars(0, "i", "shape")),
        dtype=TENSOR_TYPES.get(ttype, f"type{ttype}"),
        scale=float(scales[0]) if len(scales) == 1 else 0.0,
        zero_point=int(zps[0]) if len(zps) == 1 else 0,
    )


def _op_names(model: Table, graph: Table) -> tuple[str, ...]:
    codes = [max(int(c.scalar(0, "b")), int(c.scalar(3, "i"))) for c in model.tables(1, "operator_codes")]
    names = []
    for i, op in enumerate(graph.tables(3, "operators")):
        idx = int(op.scalar(0, "I", 0, "opcode_index"))
        if idx >= len(codes):
            raise ModelError(f"corrupt field operators[{i}].opcode_index: {idx} >= {len(codes)} codes")
        names.append(op_name(codes[idx]))
    return tuple(names)


def inspect(data: bytes, path: str | Path, name: str | None = None) -> ModelInfo:
    """Parse the model's structure; ModelError on anything that is not a sane .tflite."""
    where = str(path)
    try:
        model = root(data, b"TFL3", where)
        verify(data, where)  # the firmware's structural checks, before anything else reads it
        graphs = model.tables(2, "subgraphs")
        if not graphs:
            raise ModelError(f"{where}: model has no subgraph")
        g = graphs[0]
        tensors = g.tables(0, "tensors")

        def specs(slot: int, what: str) -> tuple[TensorSpec, ...]:
            idx = g.scalars(slot, "i", what)
            bad = [i for i in idx if not 0 <= i < len(tensors)]
            if bad:
                raise ModelError(f"corrupt field subgraphs[0].{what}: tensor {bad[0]} of {len(tensors)}")
            return tuple(_tensor_spec(tensors[i], where) for i in idx)

        info = ModelInfo(where, name or Path(path).stem, hashlib.sha256(data).hexdigest(), len(data),
                         _op_names(model, g), specs(1, "inputs"), specs(2, "outputs"))
    except ModelError as e:
        msg = str(e)
        raise ModelError(msg if msg.startswith(where) else f"{where}: {msg}; the file is truncated or not a .tflite model") from None
    return info


def load(path: str | Path, name: str | None = None) -> tuple[bytes, ModelInfo]:
    data = read_model(path)
    return data, inspect(data, path, name)


def require_int8(info: ModelInfo) -> None:
    """The device side runs quantised models: int8 IO, or float IO around a QUANTIZE/DEQUANTIZE."""
    ints = [t for t in info.inputs + info.outputs if t.dtype in ("int8", "uint8", "int16")]
    if not ints:
        t = (info.inputs + info.outputs)[0]
        raise ModelError(
            f"{info.path}: tensor {t.name!r} is {t.dtype}, expected an int8 model with int8 "
            "inputs and outputs (give the float model as the `float:` twin instead)")


def check_twin(q: ModelInfo, f: ModelInfo) -> None:
    """The float twin must have the same IO shapes as the int8 model."""
    for kind, a, b in (("inputs", q.inputs, f.inputs), ("outputs", q.outputs, f.outputs)):
        sa, sb = [t.shape for t in a], [t.shape for t in b]
        if sa != sb:
            raise ModelError(f"{f.path}: float twin {kind} {sb} do not match {q.path} {kind} {sa}; "
                             "check that `float:` names the same network")


@dataclass(frozen=True)
class OpTensor:
    """One op of the graph and the tensor it writes: the unit of per-layer drift."""

    index: int
    op: str
    tensor: int
    spec: TensorSpec


def op_tensors(data: bytes, where: str) -> list[OpTensor]:
    """Each op's first output tensor, in execution order."""
    model = root(data, b"TFL3", where)
    g = model.tables(2, "subgraphs")[0]
    tensors = g.tables(0, "tensors")
    names = _op_names(model, g)
    out = []
    for i, op in enumerate(g.tables(3, "operators")):
        outs = op.scalars(2, "i", "outputs")
        if outs and 0 <= outs[0] < len(tensors):
            out.append(OpTensor(i, names[i], int(outs[0]), _tensor_spec(tensors[outs[0]], where)))
    return out
