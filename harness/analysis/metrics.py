"""Drift and latency statistics: pure, vectorised numpy (definitions in docs/metrics.md)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

_F = float


def lsb_drift(dev: np.ndarray, ref: np.ndarray) -> dict:
    """d = q_device − q_ref in LSB: exact-match %, mean/max |d| and the histogram of d.

    Works on the (usually few) non-zero differences only, so 10 M elements take ~0.1 s.
    """
    if dev.shape != ref.shape:
        raise ValueError(f"shape {dev.shape} vs reference {ref.shape}")
    if np.issubdtype(dev.dtype, np.floating):
        return _float_exactness(dev, ref)
    size = int(dev.size)
    if not size:
        return {"elements": 0, "differing": 0, "samples": int(len(dev)), "samples_differing": 0,
                "exact_pct": 100.0, "mean_abs": 0.0, "max_abs": 0, "samples_differing_pct": 0.0, "hist": {}}
    d = dev.astype(np.int16 if dev.dtype.itemsize == ref.dtype.itemsize == 1 else np.int64)
    d -= ref  # int16 holds any int8/uint8 difference; wider outputs (int16, int32) need int64
    mask = d != 0
    nz = d[mask].astype(np.int32)
    hist = {"0": size - len(nz)} if len(nz) < size else {}
    if len(nz):
        lo = int(nz.min())
        hist.update({str(lo + i): int(c) for i, c in enumerate(np.bincount(nz - lo)) if c})
        hist = dict(sorted(hist.items(), key=lambda kv: int(kv[0])))
    a = np.abs(nz)
    rows = mask.reshape(len(mask), -1).any(axis=1)
    return {
        "elements": size,
        "differing": int(len(nz)),
        "samples": int(len(rows)),
        "samples_differing": int(rows.sum()),
        "exact_pct": _F(100.0 * (size - len(nz)) / size),
        "mean_abs": _F(a.sum() / size),
        "max_abs": int(a.max()) if len(a) else 0,
        "samples_differing_pct": _F(100.0 * rows.mean()),
        "hist": hist,
    }


def _float_exactness(dev: np.ndarray, ref: np.ndarray) -> dict:
    """For float outputs (after DEQUANTIZE): bit-equal %, and |Δ| in real units instead of LSB."""
    a = np.abs(dev.astype(np.float64) - ref.astype(np.float64))
    neq = bits_differ(dev, ref).reshape(len(dev), -1)
    rows = neq.any(axis=1)
    n = int(neq.sum())
    return {"elements": int(dev.size), "differing": n, "samples": int(len(rows)), "samples_differing": int(rows.sum()),
            "exact_pct": _F(100 * (dev.size - n) / dev.size) if dev.size else 100.0,
            "mean_abs": _F(a.mean()) if a.size else 0.0, "max_abs": _F(a.max()) if a.size else 0.0,
            "samples_differing_pct": _F(100 * rows.mean()) if len(rows) else 0.0, "hist": {}, "unit": "float"}


def bits_differ(dev: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Elementwise: do the two values differ in any bit? (floats by their bytes: -0.0 ≠ 0.0, a NaN equals the same NaN)."""
    if np.issubdtype(dev.dtype, np.floating) and dev.dtype == ref.dtype:
        kind = f"u{dev.dtype.itemsize}"
        return np.ascontiguousarray(dev).view(kind) != np.ascontiguousarray(ref).view(kind)
    return dev != ref


def exactness(pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Over every output tensor at once (one [n, ...] pair per tensor): how many elements and
    samples differ from the reference in any bit, and by how much at most."""
    elements = differing = 0
    rows = None
    max_lsb, max_float = 0, None
    for dev, ref in pairs:
        neq = bits_differ(dev, ref).reshape(len(dev), -1)
        elements, differing = elements + int(neq.size), differing + int(neq.sum())
        rows = neq.any(axis=1) if rows is None else rows | neq.any(axis=1)
        if np.issubdtype(dev.dtype, np.floating):
            d = np.abs(dev.astype(np.float64) - ref.astype(np.float64))
            max_float = max(max_float or 0.0, float(d.max()) if d.size else 0.0)
        elif neq.any():
            max_lsb = max(max_lsb, int(np.abs(dev.astype(np.int64) - ref.astype(np.int64)).max()))
    out = {"elements": elements, "differing": differing, "samples": 0 if rows is None else int(len(rows)),
           "samples_differing": 0 if rows is None else int(rows.sum()), "max_lsb": max_lsb}
    if max_float is not None:
        out["max_abs_float"] = max_float
    return out


_CHUNK = 1 << 18  # float64 work in cache-sized chunks: no 80 MB temporaries


def _float_sums(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, float, float, float]:
    """Σe², Σb², Σa², Σab, Σ|e|, max|e| with e = a − b, accumulated in float64."""
    e2 = b2 = a2 = ab = sabs = mabs = 0.0
    for i in range(0, a.size, _CHUNK):
        x = a[i:i + _CHUNK].astype(np.float64)
        y = b[i:i + _CHUNK].astype(np.float64)
        a2 += float(x @ x)
        b2 += float(y @ y)
        ab += float(x @ y)
        x -= y
        e2 += float(x @ x)
        np.abs(x, out=x)
        sabs += float(x.sum())
        mabs = max(mabs, float(x.max()))
    return e2, b2, a2, ab, sabs, mabs


def float_drift(dev: np.ndarray, ref: np.ndarray) -> dict:
    """Float error of dequantised device outputs against the float twin's outputs."""
    n = max(dev.size, 1)
    err2, ref2, dev2, dot, sabs, mabs = _float_sums(dev.ravel(), ref.ravel())
    na, nb = np.sqrt(dev2), np.sqrt(ref2)
    return {
        "mae": _F(sabs / n),
        "rmse": _F(np.sqrt(err2 / n)),
        "max_abs": _F(mabs),
        "cosine": _F(dot / (na * nb)) if na and nb else (1.0 if na == nb else 0.0),
        "l2_rel": _F(np.sqrt(err2) / nb) if nb else None,
        "snr_db": _F(10 * np.log10(ref2 / err2)) if err2 and ref2 else None,
    }


def top1_agreement(dev_scores: np.ndarray, ref_scores: np.ndarray) -> dict:
    """Share of samples whose arg-max class is the same; the rest are swapped predictions."""
    a = np.argmax(dev_scores.reshape(len(dev_scores), -1), axis=1)
    b = np.argmax(ref_scores.reshape(len(ref_scores), -1), axis=1)
    agree = float(np.mean(a == b)) * 100 if len(a) else 100.0
    return {"top1_agreement_pct": agree, "swapped_pct": 100.0 - agree, "swapped": int(np.sum(a != b))}


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(scores.reshape(len(scores), -1), axis=1) == labels) * 100)


def sanity(q: np.ndarray, scale: float, zero_point: int, softmax: bool) -> dict:
    """Saturation (at the int8 / int16 range's ends) and dead outputs; for softmax outputs also
    negative confidences and Σp − 1."""
    flat = q.reshape(len(q), -1)
    is_int = q.dtype in (np.int8, np.int16)
    lo, hi = (np.iinfo(q.dtype).min, np.iinfo(q.dtype).max) if is_int else (0, 0)
    out = {
        "saturated_low_pct": _F(100 * np.mean(flat == lo)) if is_int else 0.0,
        "saturated_high_pct": _F(100 * np.mean(flat == hi)) if is_int else 0.0,
        "dead_outputs": int(np.sum(np.all(flat == flat[:1], axis=0))) if len(flat) > 1 else 0,
    }
    if softmax:  # float outputs (float recipes, DEQUANTIZE) are probabilities as they are
        p = flat.astype(np.float64) if q.dtype.kind == "f" else (flat.astype(np.float64) - zero_point) * scale
        s = np.abs(p.sum(axis=1) - 1.0)
        out.update({"negative_confidences": int(np.sum(p < 0)), "worst_confidence": _F(p.min()),
                    "softmax_sum_dev_mean": _F(s.mean()), "softmax_sum_dev_max": _F(s.max())})
    return out


def latency(ns: np.ndarray) -> dict:
    """Per-inference device time in µs (warm-up runs are never in `ns`)."""
    us = np.asarray(ns, dtype=np.float64) / 1e3
    if not us.size:
        return {"n": 0}
    p50, p90, p99 = np.percentile(us, [50, 90, 99])
    # equal times (QEMU -icount is deterministic) have std 0, not the 1e-13 that float rounding leaves
    std = 0.0 if us.min() == us.max() else us.std()
    return {"n": int(us.size), "min_us": _F(us.min()), "p50_us": _F(p50), "mean_us": _F(us.mean()),
            "p90_us": _F(p90), "p99_us": _F(p99), "max_us": _F(us.max()), "std_us": _F(std)}
