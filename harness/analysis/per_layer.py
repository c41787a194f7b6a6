"""Per-layer localisation: each op's output on the device against the TFLM oracle's (same
input bytes) and against the float twin's tensor of the same name, to find where drift starts."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.model import OpTensor, op_tensors
from ..core.tensors import dequantize
from ..errors import UnsupportedModel
from ..runtimes.runner import Runner, reason
from . import metrics


def oracle_tensors(data: bytes, rows: Sequence[np.ndarray], wanted: Sequence[int], where: str) -> dict[int, np.ndarray]:
    """Every wanted tensor of the TFLM interpreter (preserve-all mode) for one sample."""
    with Runner("tflm") as r:
        r.load(data, where, preserve_all=True)
        return r.tensors(rows, wanted)[0]


def tflite_tensors(data: bytes, rows: Sequence[np.ndarray], kernels: str = "optimized",
                   runtime: str = "auto") -> tuple[dict[int, np.ndarray], dict[str, np.ndarray]]:
    """Every tensor by index and by name, from tflite-runtime with experimental_preserve_all_tensors."""
    with Runner(kernels, runtime) as r:
        r.load(data, "model", preserve_all=True)
        return r.tensors(rows)


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
             float_rows: Sequence[list[np.ndarray]] | None, where: str) -> list[dict] | dict:
    """Per-op rows over several samples: worst exact %, worst max |Δ|, mean float MAE.

    When the TFLM oracle cannot run the model (refused, crashed): {"unavailable": reason} — the
    device's results stand, only this comparison is missing."""
    ops = op_tensors(data, where)
    with Runner("tflm") as oracle, Runner("optimized") as flt:
        try:
            _load_oracle(oracle, data, where)
            floats = _load_twin(flt, twin, where) if float_rows else False
            per_sample = []
            for k, rows in enumerate(samples):
                dev = dev_tensors(rows)  # the target's own errors propagate: only the oracle's are caught
                per_sample.append(_sample(ops, dev, oracle, rows, flt if floats else None,
                                          float_rows[k] if floats else None))
        except _OracleFailed as e:
            return {"unavailable": reason(e, where)}
    return _merge(per_sample)


class _OracleFailed(Exception):
    """The TFLM oracle refused or crashed: per-layer drift is unavailable for this model."""


def _load_oracle(oracle: Runner, data: bytes, where: str) -> None:
    try:
        oracle.load(data, where, preserve_all=True)
    except UnsupportedModel as e:
        raise _OracleFailed(str(e)) from None


def _load_twin(flt: Runner, twin: bytes | None, where: str) -> bool:
    """Load the float twin for per-layer MAE; False (no float column) when it cannot run."""
    if twin is None:
        return False
    try:
        flt.load(twin, f"{where} (float twin)", preserve_all=True)
    except UnsupportedModel:
        return False
    return True


def _sample(ops: list[OpTensor], dev: dict, oracle: Runner, rows, flt: Runner | None, float_rows) -> list[dict]:
    """One sample's per-op rows: the oracle's tensors (and the float twin's) for the same input."""
    try:
        ref = oracle.tensors(rows, [o.tensor for o in ops])[0]
    except UnsupportedModel as e:
        raise _OracleFailed(str(e)) from None
    _drop_overwritten(ops, dev, ref)
    floats = None
    if flt is not None:
        try:
            floats = flt.tensors(float_rows)[1]
        except UnsupportedModel:
            floats = None
    return compare(ops, dev, ref, floats)


def _merge(per_sample: list[list[dict]]) -> list[dict]:
    """One row per op over the samples; the first op with any difference is marked."""
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


def first_divergence(rows: list[dict]) -> tuple[dict | None, list[dict]]:
    """The claim a report may make: the first op seen to diverge (among readable tensors only) and
    the ops before it whose tensors could not be read — when there are any, the drift may start in
    one of them, and "first diverging op" must not be said without that."""
    first = next((r for r in rows if r.get("first_diverging")), None)
    stop = rows.index(first) if first is not None else len(rows)
    return first, [r for r in rows[:stop] if r.get("max_abs") is None]
