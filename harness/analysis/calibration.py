"""Does the drift matter? Calibration and swapped predictions, after Xia et al. (Arm),
"An Underexplored Dilemma between Confidence and Calibration in Quantized Neural Networks".

Quantisation mostly flips low-confidence predictions, so the change in error rate is much smaller
than the share of swapped predictions; these metrics measure that on the device.
"""

from __future__ import annotations

import numpy as np

ECE_BINS = 15
SWAP_BINS = 10


def probabilities(scores: np.ndarray) -> np.ndarray:
    """Class probabilities [N, C]: softmax outputs as they are, logits through a softmax."""
    s = scores.reshape(len(scores), -1).astype(np.float32, copy=False)
    sums = s.sum(axis=1, dtype=np.float64)
    if s.min() >= -1e-6 and s.max() <= 1 + 1e-6 and np.all(np.abs(sums - 1.0) <= 0.1):
        return s
    z = s - s.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def reliability(conf: np.ndarray, pred: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> dict:
    """ECE = Σ_b (n_b / N)·|accuracy_b − confidence_b| over equal-width bins of top-1 confidence."""
    conf = np.asarray(conf, dtype=np.float64)
    correct = (pred == labels).astype(np.float64)
    idx = np.minimum((conf * bins).astype(np.int64), bins - 1)
    count = np.bincount(idx, minlength=bins).astype(np.float64)
    acc_sum = np.bincount(idx, weights=correct, minlength=bins)
    conf_sum = np.bincount(idx, weights=conf, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc, mean_conf = acc_sum / count, conf_sum / count
    gap = np.abs(acc_sum - conf_sum).sum() / max(len(conf), 1)
    return {"ece": float(gap), "bins": bins, "count": count.astype(int).tolist(),
            "accuracy": np.nan_to_num(acc, nan=-1).tolist(), "confidence": np.nan_to_num(mean_conf, nan=-1).tolist()}


def reliability_equal_mass(conf: np.ndarray, pred: np.ndarray, labels: np.ndarray, per_bin: int = 20) -> dict:
    """The same over bins of (nearly) equal sample counts — at least `per_bin` samples each, at most
    ECE_BINS bins: with few samples equal-width bins hold 1–3 samples and zig-zag; these do not."""
    conf = np.asarray(conf, dtype=np.float64)
    order = np.argsort(conf, kind="stable")
    correct = (pred == labels).astype(np.float64)[order]
    groups = np.array_split(np.arange(len(conf)), max(1, min(ECE_BINS, len(conf) // per_bin)))
    c = conf[order]
    count = [int(len(g)) for g in groups if len(g)]
    acc = [float(correct[g].mean()) for g in groups if len(g)]
    mean_conf = [float(c[g].mean()) for g in groups if len(g)]
    gap = sum(n * abs(a - m) for n, a, m in zip(count, acc, mean_conf)) / max(len(conf), 1)
    return {"ece": float(gap), "bins": len(count), "count": count, "accuracy": acc, "confidence": mean_conf,
            "edges": [float(c[g[0]]) for g in groups if len(g)] + ([float(c[-1])] if len(c) else [])}


def swap_histogram(conf: np.ndarray, swapped: np.ndarray, bins: int = SWAP_BINS) -> dict:
    """Swapped predictions and all samples per equal-width bin of a model's top-1 confidence."""
    idx = np.minimum((conf * bins).astype(np.int64), bins - 1)
    return {"edges": np.linspace(0, 1, bins + 1).round(3).tolist(),
            "swapped": np.bincount(idx, weights=swapped, minlength=bins).astype(int).tolist(),
            "total": np.bincount(idx, minlength=bins).astype(int).tolist()}


def study(device_scores: np.ndarray, float_scores: np.ndarray, labels: np.ndarray | None) -> dict:
    """Every calibration figure for one model: float twin vs device int8."""
    pd, pf = probabilities(device_scores), probabilities(float_scores)
    cd, cf = pd.max(axis=1).astype(np.float64), pf.max(axis=1).astype(np.float64)
    ad, af = pd.argmax(axis=1), pf.argmax(axis=1)
    swapped = ad != af
    res = {
        "samples": int(len(pd)),
        "swapped": int(swapped.sum()),
        "swapped_pct": float(100 * swapped.mean()),
        "confidence_shift_mean": float((cd - cf).mean()),
        "confidence_shift_mean_abs": float(np.abs(cd - cf).mean()),
        "swaps_by_float_confidence": swap_histogram(cf, swapped),
        "swaps_by_device_confidence": swap_histogram(cd, swapped),
        "median_float_confidence_swapped": float(np.median(cf[swapped])) if swapped.any() else None,
        "median_float_confidence_all": float(np.median(cf)),
    }
    if labels is not None:
        err_f = 100 * float(np.mean(af != labels))
        err_d = 100 * float(np.mean(ad != labels))
        delta = err_d - err_f
        res.update({"error_float_pct": err_f, "error_device_pct": err_d, "delta_error_pct": delta,
                    "swaps_per_abs_delta_error": (res["swapped_pct"] / abs(delta)) if delta else None,
                    "reliability_float": reliability(cf, af, labels), "reliability_device": reliability(cd, ad, labels)})
        res["reliability_float_equal_mass"] = reliability_equal_mass(cf, af, labels)
        res["reliability_device_equal_mass"] = reliability_equal_mass(cd, ad, labels)
        res["ece_float"] = res["reliability_float"]["ece"]
        res["ece_device"] = res["reliability_device"]["ece"]
    return res
