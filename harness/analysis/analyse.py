"""From a run directory's raw outputs and host references to metrics.json."""

from __future__ import annotations

import numpy as np

from ..core.config import INT8_REFS
from ..core.tensors import TensorSpec, dequantize
from ..results.files import read_json, read_npz, write_json
from ..results.rundir import RunDir
from . import calibration, metrics
from .figures import count, exactness_verdict, percent

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
    refs, mismatched = _comparable(refs, out, len(specs))
    res: dict = {"latency": metrics.latency(out["times_ns"]), "load_time_s": m["load"]["time_s"],
                 "samples": int(len(out["times_ns"])), "tensors": {}}
    if target.get("time_unit") != "ns":
        t = out["ticks"].astype(np.float64)
        res["ticks"] = {"unit": target.get("time_unit"), "mean": float(t.mean()), "min": int(t.min()),
                        "max": int(t.max()), "std": float(t.std())}
    if "op_ticks" in out and len(out["op_ticks"]):
        res["profile"] = _profile(out["op_ticks"], m["ops"], target)
    for j, spec in enumerate(specs):
        res["tensors"][f"outputs_{j}"] = _tensor_metrics(out[f"outputs_{j}"], refs, j, spec, m)
    res["exactness"] = {ref: metrics.exactness([(out[f"outputs_{j}"], refs[f"{ref}_{j}"]) for j in range(len(specs))])
                        for ref in INT8_REFS if f"{ref}_0" in refs}
    res["unavailable_references"] = {**(m.get("unavailable_references") or {}), **mismatched}
    if m.get("classification"):
        res["classification"] = _classification(out, refs, specs[0])
        if "float_0" in refs:
            labels = out.get("labels")
            res["calibration"] = calibration.study(dequantize(out["outputs_0"], specs[0]), refs["float_0"], labels)
    layers = rd.file("layers", f"{name}.json")
    if layers.exists():
        per_layer = read_json(layers)
        if isinstance(per_layer, dict):  # layers.localise: the oracle could not run the model
            res["per_layer_unavailable"] = per_layer.get("unavailable", "")
        else:
            res["per_layer"] = per_layer
    res["explanations"] = _explain(res, specs)
    res["verdict"] = _verdict(res)
    return res


def _comparable(refs: dict, out: dict, n: int) -> tuple[dict, dict[str, str]]:
    """Drop a reference whose outputs are not shaped like the device's (a runtime that read a
    damaged model differently): it cannot be compared, and says so instead of failing the analysis."""
    kept, why = dict(refs), {}
    for name in {k.rsplit("_", 1)[0] for k in refs}:
        for j in range(n):
            r, d = refs.get(f"{name}_{j}"), out[f"outputs_{j}"]
            if r is None or r.shape != d.shape:
                why[name] = (f"its outputs_{j} has shape {None if r is None else list(r.shape)}, "
                             f"the device's {list(d.shape)}")
                for k in [k for k in kept if k.rsplit("_", 1)[0] == name]:
                    del kept[k]
                break
    return kept, why


def _explain(res: dict, specs: list[TensorSpec]) -> list[str]:
    """Plain-language causes for what the numbers show."""
    notes = []
    if any(t["vs"].get("tflm", {}).get("max_abs", 0) for t in res["tensors"].values()):
        notes.append(ROUNDING_NOTE)
    for (k, t), spec in zip(res["tensors"].items(), specs):
        if t["sanity"].get("negative_confidences") and spec.dtype in ("int8", "int16"):
            qmin = int(np.iinfo(spec.dtype).min)
            low = (qmin - spec.zero_point) * spec.scale
            notes.append(f"{k}: {t['sanity']['negative_confidences']} negative confidences: the output zero point is "
                         f"{spec.zero_point} (scale {spec.scale:.6g}), so q = {qmin} dequantises to "
                         f"({qmin} - ({spec.zero_point})) x {spec.scale:.6g} = {low:.6g} < 0; a softmax output "
                         "quantised with zero point -128 and scale 1/256 (int16: 0 and 1/32768) cannot go below 0")
    return notes


def _verdict(res: dict) -> str:
    """One sentence a reader can act on: bit-exact or not (with counts), swaps, error change."""
    parts = []
    ex, gone = res["exactness"].get("tflm"), res["unavailable_references"].get("tflm")
    if ex:
        parts.append(exactness_verdict(ex, "the TFLM oracle"))
    elif gone:
        parts.append(f"no exactness verdict: the TFLM oracle is unavailable ({gone})")
    cal = res.get("calibration")
    if cal:
        parts.append(f"{count(cal['swapped'])} of {count(cal['samples'])} predictions "
                     f"({percent(cal['swapped_pct'])} %) swapped vs the float twin")
        if "delta_error_pct" in cal:
            parts.append(f"error {percent(cal['error_float_pct'])} % float → {percent(cal['error_device_pct'])} % device")
    return "; ".join(parts)


def _profile(op_ticks: np.ndarray, ops: list[str], target: dict) -> list[dict]:
    """Mean ticks per op over the run (the firmware profiles every inference)."""
    mean = op_ticks.astype(np.float64).mean(axis=0)
    total = mean.sum() or 1.0
    clock = target.get("clock_hz")
    return [{"index": i, "op": ops[i] if i < len(ops) else "?", "ticks": float(t), "share_pct": float(100 * t / total),
             "us": float(t * 1e6 / clock) if clock else None} for i, t in enumerate(mean)]


def _tensor_metrics(q: np.ndarray, refs: dict, j: int, spec: TensorSpec, m: dict) -> dict:
    t: dict = {"vs": {}}
    for name in INT8_REFS:
        if f"{name}_{j}" in refs:
            t["vs"][name] = metrics.lsb_drift(q, refs[f"{name}_{j}"])
    if f"float_{j}" in refs:
        f = refs[f"float_{j}"]
        t["float"] = metrics.float_drift(dequantize(q, spec), f)
        if f"tflm_{j}" in refs:
            t["float_oracle"] = metrics.float_drift(dequantize(refs[f"tflm_{j}"], spec), f)
    t["sanity"] = metrics.sanity(q, spec.scale, spec.zero_point, bool(m.get("classification")))
    if m.get("classification") and f"float_{j}" in refs:
        f = refs[f"float_{j}"].reshape(len(q), -1).astype(np.float64)
        dev = np.abs(f.sum(axis=1) - 1.0)
        t["sanity"].update({"float_softmax_sum_dev_mean": float(dev.mean()), "float_softmax_sum_dev_max": float(dev.max())})
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
