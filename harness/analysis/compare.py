"""Compare the raw outputs of two runs directly (two boards, two firmware builds, two days)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ResultsError
from ..results.files import read_json, read_npz
from ..results.rundir import RunDir
from . import metrics
from .figures import exactness_verdict


def compare_model(a: RunDir, b: RunDir, name: str) -> dict:
    """LSB drift of every output tensor of run A against run B, top-1 agreement and p50 ratio."""
    oa, ob = read_npz(a.file("outputs", f"{name}.npz")), read_npz(b.file("outputs", f"{name}.npz"))
    ins = sorted(k for k in oa if k.startswith("inputs_"))
    n = min(len(oa["times_ns"]), len(ob["times_ns"]))
    for k in ins:
        if k not in ob or not np.array_equal(oa[k][:n], ob[k][:n]):
            raise ResultsError(f"{name}: the two runs used different inputs ({k}); compare runs of the same config")
    res: dict = {"samples": n, "tensors": {}}
    outs = sorted(k for k in oa if k.startswith("outputs_"))
    for k in outs:
        res["tensors"][k] = metrics.lsb_drift(oa[k][:n], ob[k][:n])
    res["exactness"] = metrics.exactness([(oa[k][:n], ob[k][:n]) for k in outs])
    res.update(metrics.top1_agreement(oa["outputs_0"][:n], ob["outputs_0"][:n]))
    pa, pb = np.median(oa["times_ns"]), np.median(ob["times_ns"])
    res["p50_us_a"], res["p50_us_b"] = float(pa / 1e3), float(pb / 1e3)
    res["latency_change_pct"] = float((pa / pb - 1) * 100) if pb else None
    return res


def compare_runs(run_a: Path, run_b: Path) -> dict[str, dict]:
    a, b = RunDir(run_a), RunDir(run_b)
    ma, mb = read_json(a.file("run.json")).get("models", {}), read_json(b.file("run.json")).get("models", {})
    common = [n for n in ma if n in mb and ma[n]["sha256"] == mb[n]["sha256"]]
    if not common:
        raise ResultsError(f"{run_a} and {run_b} share no model (same name and sha256)")
    return {n: compare_model(a, b, n) for n in common}


def verdicts(results: dict[str, dict], who: str) -> dict[str, str]:
    """Per model: "bit-exact with <who> (…)" or "not bit-exact vs <who>: …", with counts."""
    return {n: exactness_verdict(r["exactness"], who) for n, r in results.items()}
