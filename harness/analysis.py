"""From a run directory's raw outputs and host references to metrics.json."""

from __future__ import annotations

import numpy as np

from . import metrics
from .inputs import dequantize
from .drivers.base import TensorSpec
from .results import RunDir, read_json, read_npz, write_json

ROUNDING_NOTE = ("differences of a few LSB between int8 kernel sets usually come from requantisation "
                 "rounding: TFLite reference kernels and TFLM round twice (rounding doubling high "
                 "multiply, then rounding right shift), optimised kernels (ruy/XNNPACK) round once")


def _spec(d: dict) -> TensorSpec:
    return TensorSpec(d["name"], tuple(d["shape"]), d["dtype"], d["scale"], d["zero_point"])


def analyse_model(rd: RunDir, name: str, m: dict, target: dict) -> dict:
    """Every metric of one model; pure functions of the files on disk."""
    out = read_npz(rd.file("outputs", f"{name}.npz"))
    refs = read_npz(rd.file("refs", f"{name}.npz")) if rd.file("refs", f"{name}.npz").exists() else {}
    specs = [_spec(d) for d in m["outputs"]]
    res: dict = {"latency": metrics.latency(out["times_ns"]), "load_time_s": m["load"]["time_s"],
                 "samples": int(len(out["times_ns"])), "tensors": {}}
    if target.get("time_unit") != "ns":
        t = out["ticks"].astype(np.float64)
        res["ticks"] = {"unit": target.get("time_unit"), "mean": float(t.mean()), "min": int(t.min()),
                        "max": int(t.max()), "std": float(t.std())}
    for j, spec in enumerate(specs):
        res["tensors"][f"outputs_{j}"] = _tensor_metrics(out[f"outputs_{j}"], refs, j, spec, m)
    if m.get("classification"):
        res["classification"] = _classification(out, refs, specs[0])
    if any(t.get("vs", {}).get(r, {}).get("max_abs", 0) for t in res["tensors"].values() for r in ("tflm",)):
        res["explanation"] = ROUNDING_NOTE
    return res


def _tensor_metrics(q: np.ndarray, refs: dict, j: int, spec: TensorSpec, m: dict) -> dict:
    t: dict = {"vs": {}}
    for name in ("tflm", "reference", "optimized"):
        if f"{name}_{j}" in refs:
            t["vs"][name] = metrics.lsb_drift(q, refs[f"{name}_{j}"])
    if f"float_{j}" in refs:
        f = refs[f"float_{j}"]
        t["float"] = metrics.float_drift(dequantize(q, spec), f)
        if f"tflm_{j}" in refs:
            t["float_oracle"] = metrics.float_drift(dequantize(refs[f"tflm_{j}"], spec), f)
    t["sanity"] = metrics.sanity(q, spec.scale, spec.zero_point, bool(m.get("classification")))
    return t


def _classification(out: dict, refs: dict, spec: TensorSpec) -> dict:
    q = out["outputs_0"]
    c: dict = {}
    for name in ("tflm", "float", "optimized", "reference"):
        if f"{name}_0" in refs:
            c[f"vs_{name}"] = metrics.top1_agreement(q, refs[f"{name}_0"])
    if "labels" in out:
        y = out["labels"]
        c["accuracy_device_pct"] = metrics.accuracy(q, y)
        if "float_0" in refs:
            c["accuracy_float_pct"] = metrics.accuracy(refs["float_0"], y)
        if "tflm_0" in refs:
            c["accuracy_tflm_pct"] = metrics.accuracy(refs["tflm_0"], y)
    return c


def analyse_run(rd: RunDir) -> dict:
    meta = read_json(rd.file("run.json"))
    result = {name: analyse_model(rd, name, m, meta.get("target", {})) for name, m in meta.get("models", {}).items()}
    write_json(rd.file("metrics.json"), result)
    return result
