"""Per-layer localisation: each op's output on the device against the TFLM oracle's (same
input bytes) and against the float twin's tensor of the same name, to find where drift starts."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import metrics
from .inputs import dequantize
from .models import OpTensor, op_tensors


def oracle_tensors(data: bytes, rows: Sequence[np.ndarray], wanted: Sequence[int], where: str) -> dict[int, np.ndarray]:
    """Every wanted tensor of the TFLM interpreter (preserve-all mode) for one sample."""
    from tflite_micro.python.tflite_micro import runtime as tflm

    from .models import inspect

    info = inspect(data, where)
    it = tflm.Interpreter.from_bytes(data, arena_size=len(data) * 10 + (16 << 20),
                                     intrepreter_config=tflm.InterpreterConfig.kPreserveAllTensors)
    for i, (row, spec) in enumerate(zip(rows, info.inputs)):
        it.set_input(row.reshape(spec.shape), i)
    it.invoke()
    return {t: np.array(it.GetTensor(t, 0)["tensor_data"]) for t in wanted}


def tflite_tensors(data: bytes, rows: Sequence[np.ndarray], kernels: str = "optimized",
                   runtime: str = "auto") -> tuple[dict[int, np.ndarray], dict[str, np.ndarray]]:
    """Every tensor by index and by name, from tflite-runtime with experimental_preserve_all_tensors."""
    from .runtimes import tflite_interpreter

    it = tflite_interpreter(data, kernels, runtime, preserve_all=True)
    for d, row in zip(it.get_input_details(), rows):
        it.set_tensor(d["index"], row.reshape(d["shape"]).astype(d["dtype"]))
    it.invoke()
    by_index, by_name = {}, {}
    for d in it.get_tensor_details():
        try:
            by_index[d["index"]] = by_name[d["name"]] = it.get_tensor(d["index"])
        except ValueError:  # tensors without data (e.g. optional inputs)
            continue
    return by_index, by_name


def compare(ops: list[OpTensor], dev: dict[int, np.ndarray], oracle: dict[int, np.ndarray],
            floats: dict[str, np.ndarray] | None) -> list[dict]:
    """One row per op: exact %, max |Δ| vs the oracle, float MAE where a float tensor matches by name."""
    rows = []
    for o in ops:
        if o.tensor not in oracle:
            continue
        if o.tensor not in dev:
            rows.append({"index": o.index, "op": o.op, "tensor": o.tensor, "name": o.spec.name,
                         "exact_pct": None, "max_abs": None, "note": "not readable on the target (overwritten in place, or not kept)"})
            continue
        d, r = dev[o.tensor].reshape(-1), oracle[o.tensor].reshape(-1)
        lsb = metrics.lsb_drift(d[None], r[None]) if d.shape == r.shape else None
        row = {"index": o.index, "op": o.op, "tensor": o.tensor, "name": o.spec.name,
               "exact_pct": lsb["exact_pct"] if lsb else None, "max_abs": lsb["max_abs"] if lsb else None}
        f = (floats or {}).get(o.spec.name)
        if f is not None and f.size == d.size and o.spec.dtype in ("int8", "int16"):
            row["float_mae"] = float(np.abs(dequantize(d, o.spec) - f.reshape(-1)).mean())
        rows.append(row)
    return rows


def _drop_overwritten(ops: list[OpTensor], dev: dict, oracle: dict) -> None:
    """tflite-runtime runs some ops (e.g. ADD) in place, so the input tensor it reads back holds the
    op's output: such a tensor equals the next op's output while the oracle's two differ."""
    for a, b in zip(ops, ops[1:]):
        da, db = dev.get(a.tensor), dev.get(b.tensor)
        if da is None or db is None or da.size != db.size or not np.array_equal(da.ravel(), db.ravel()):
            continue
        if not np.array_equal(oracle[a.tensor].ravel(), oracle[b.tensor].ravel()):
            del dev[a.tensor]


def localise(dev_tensors, data: bytes, twin: bytes | None, samples: Sequence[list[np.ndarray]],
             float_rows: Sequence[list[np.ndarray]] | None, where: str) -> list[dict]:
    """Per-op rows over several samples: worst exact %, worst max |Δ|, mean float MAE."""
    ops = op_tensors(data, where)
    wanted = [o.tensor for o in ops]
    per_sample = []
    for k, rows in enumerate(samples):
        dev = dev_tensors(rows)
        oracle = oracle_tensors(data, rows, wanted, where)
        _drop_overwritten(ops, dev, oracle)
        floats = tflite_tensors(twin, float_rows[k])[1] if twin is not None and float_rows else None
        per_sample.append(compare(ops, dev, oracle, floats))
    merged = []
    for rows in zip(*per_sample):
        r = dict(rows[0])
        ex = [x["exact_pct"] for x in rows if x["exact_pct"] is not None]
        mx = [x["max_abs"] for x in rows if x["max_abs"] is not None]
        fm = [x["float_mae"] for x in rows if "float_mae" in x]
        r.update(exact_pct=min(ex) if ex else None, max_abs=max(mx) if mx else None,
                 float_mae=float(np.mean(fm)) if fm else None)
        merged.append(r)
    first = next((r for r in merged if r["max_abs"]), None)
    for r in merged:
        r["first_diverging"] = r is first
    return merged
