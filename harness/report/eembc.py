"""The MLPerf Tiny (EEMBC) section of a report, for runs on kinds eembc / qemu-eembc: how the
printed decimals became int8 outputs, the runner's performance figures and its accuracy
figures against the benchmark's quality targets. Reads run.json's model entry and the run's
npz files; writes nothing."""

from __future__ import annotations

import numpy as np

from ..analysis.figures import number, percent
from ..analysis.metrics import float_drift
from ..core.tensors import TensorSpec
from ..drivers.eembc import values as ev
from ..results.files import read_npz
from ..results.rundir import RunDir
from .document import Doc


def section(doc: Doc, rd: RunDir, name: str, mm: dict) -> None:
    """Nothing unless the model ran over the MLPerf Tiny protocol."""
    path = rd.file("outputs", f"{name}.npz")
    out = read_npz(path) if path.exists() else {}
    perf = mm.get("eembc_performance")
    if "printed_0" not in out and not perf:
        return
    model_id = mm.get("load", {}).get("eembc_model", "")
    doc.h(3, f"MLPerf Tiny (EEMBC) protocol — device model {model_id or '?'}")
    if "printed_0" in out:
        refs_path = rd.file("refs", f"{name}.npz")
        _recovery(doc, mm, out, read_npz(refs_path) if refs_path.exists() else {})
    if perf:
        _performance(doc, perf)
    if "printed_0" in out and "labels" in out:
        _accuracy(doc, model_id, _scores(model_id, out, mm), out["labels"])


def _recovery(doc: Doc, mm: dict, out: dict, refs: dict) -> None:
    spec = _spec(mm["outputs"][0])
    printed = out["printed_0"]
    amb = int(out["ambiguous"].sum()) if "ambiguous" in out else 0
    q = out["outputs_0"].reshape(len(printed), -1).astype(np.float64)
    exact = (q - spec.zero_point) * spec.scale
    if np.array_equal(printed, q):
        doc.p("The device prints its raw int8 outputs: they are the outputs above, no recovery needed.")
        return
    ok = ev.resolves_one_lsb(spec.scale, 3, "auto")
    doc.p(f"The device prints dequantised outputs; the int8 outputs above are recovered with the model's output "
          f"scale {number(spec.scale)} and zero point {spec.zero_point}. "
          + (f"Three decimals resolve one LSB at this scale (one step {number(spec.scale)} > the 0.0015 a truncated or "
             "rounded three-decimal value leaves open): every value maps to exactly one int8 value."
             if ok else f"Three decimals cannot resolve one LSB at this scale ({number(spec.scale)} ≤ 0.0015): "
             "a printed value may fit two int8 values.")
          + (f" {number(amb)} of {number(printed.size)} printed values fitted more than one int8 value; the nearest "
             "was taken, so the LSB figures are not a proof of exactness." if amb else ""))
    rows = [["printed − (q − zp)·scale of the recovered q", *_drift_row(float_drift(printed, exact))]]
    if "float_0" in refs:
        twin = refs["float_0"].reshape(printed.shape)
        rows.append(["printed − float twin", *_drift_row(float_drift(printed, twin))])
    doc.table(["float drift of the printed values", "MAE", "max |Δ|", "cosine"], rows)


def _drift_row(d: dict) -> list:
    return [d["mae"], d["max_abs"], d["cosine"]]


def _performance(doc: Doc, p: dict) -> None:
    doc.p(f"Performance mode (the runner's): {len(p['windows'])} windows of `infer {p['n']} {p['warmup']}`, each on "
          f"one uploaded sample. Median throughput {number(p['median_throughput_inf_s'])} inferences per second of the "
          f"device's m-lap-us clock, median latency {number(p['median_latency_us'])} m-lap-us µs "
          f"({number(p['median_per_inference'])} {p['unit']} per inference). "
          + ("Valid for a submission." if p["valid_for_submission"] else
             f"Not valid for a submission: {p['not_valid_because']}.") + f" {p['time_note']}.")
    doc.table(["window", "sample", "N", "W", "t1 − t0 (m-lap-us µs)", "inf./s", "m-lap-us µs / inference",
               f"{p['unit']} / inference",
               "results = single inference"],
              [[i + 1, w["sample"], w["n"], w["warmup"], w["elapsed_us"], w["throughput_inf_s"], w["latency_us"],
                w["per_inference"], w["results_match_single"]] for i, w in enumerate(p["windows"])])


def _spec(d: dict) -> TensorSpec:
    return TensorSpec(**{**d, "shape": tuple(d["shape"])})


def _scores(model_id: str, out: dict, mm: dict) -> np.ndarray:
    """What the runner scores: the printed values; for ad01 printing its raw outputs, the score
    its reference prints — the mean squared error of the dequantised output vs the input."""
    printed = out["printed_0"]
    facts = ev.MODELS.get(model_id)
    if not facts or facts.metric != "auc" or printed.shape[1] == 1:
        return printed
    from ..core.tensors import dequantize

    y = dequantize(out["outputs_0"], _spec(mm["outputs"][0])).reshape(len(printed), -1).astype(np.float64)
    x = dequantize(out["inputs_0"], _spec(mm["inputs"][0])).reshape(len(printed), -1).astype(np.float64)
    return np.mean((y - x) ** 2, axis=1, keepdims=True)


def _accuracy(doc: Doc, model_id: str, printed: np.ndarray, labels: np.ndarray) -> None:
    """As the runner computes it: scores normalised to sum 1, arg-max against the label; AUC
    one-vs-rest; ad01 the AUC of its anomaly score."""
    facts = ev.MODELS.get(model_id)
    y = labels.astype(np.int64)
    if printed.shape[1] == 1:
        value, unit, roc = auc(y == 1, printed[:, 0]), "AUC", ""
    else:
        sums = printed.sum(axis=1, keepdims=True)
        p = printed / np.where(sums == 0, 1.0, sums)
        value, unit = float(np.mean(np.argmax(p, axis=1) == y) * 100), "top-1 %"
        a = auc(y == 1, p[:, 1]) if p.shape[1] == 2 else _ovr_auc(y, p)
        roc = f"; AUC {'n/a' if a is None else number(a)}"
    target = f"{number(facts.target)}{' %' if facts.metric == 'top1' else ''}" if facts else "none for this model id"
    met = "" if not facts or value is None else (" — meets the target" if value >= facts.target else
                                                 " — below the target")
    shown = "n/a" if value is None else number(value) if unit == "AUC" else percent(value)
    doc.p(f"Accuracy mode (the runner's `infer 1 0` per sample, {number(len(y))} labelled samples): {unit} "
          f"{shown} against the quality target {target}{met}{roc}. "
          "The runner reports the figure on the full test set.")


def auc(positive: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann–Whitney, ties counted half); None without both classes."""
    pos, neg = int(positive.sum()), int((~positive).sum())
    if not pos or not neg:
        return None
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), np.float64)
    s = score[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[positive].sum() - pos * (pos + 1) / 2) / (pos * neg))


def _ovr_auc(y: np.ndarray, scores: np.ndarray) -> float | None:
    """Macro mean of one-vs-rest AUCs over the classes present (sklearn's multi_class='ovr')."""
    vals = [a for c in range(scores.shape[1]) if (a := auc(y == c, scores[:, c])) is not None]
    return float(np.mean(vals)) if vals else None
