"""Matplotlib figures as PNG bytes, for inlining in report.html."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def lsb_histogram(hists: dict[str, dict[str, int]], title: str) -> bytes:
    """Histogram of d = q_device − q_ref per reference, log count axis."""
    fig, ax = plt.subplots(figsize=(6, 3))
    for name, hist in hists.items():
        xs = np.array([int(k) for k in hist], dtype=int)
        ys = np.array(list(hist.values()), dtype=float)
        ax.bar(xs, ys, alpha=0.6, label=f"vs {name}", width=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("d = q_device − q_ref (LSB)")
    ax.set_ylabel("elements")
    ax.set_title(title)
    ax.legend()
    return _png(fig)


def latency_distribution(times_us: np.ndarray, title: str) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(times_us, bins=min(50, max(5, len(times_us) // 4)), color="tab:blue")
    ax.axvline(float(np.median(times_us)), color="k", linestyle="--", label="p50")
    ax.set_xlabel("latency per inference (µs, on the device)")
    ax.set_ylabel("inferences")
    ax.set_title(title)
    ax.legend()
    return _png(fig)


def reliability_diagram(rel_float: dict, rel_device: dict, title: str, device_label: str = "device int8") -> bytes:
    """Accuracy vs confidence per bin, float twin and device on one plot; the diagonal is perfect."""
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
    for rel, name, style in ((rel_float, "float", "o-"), (rel_device, device_label, "s--")):
        conf, acc, n = map(np.asarray, (rel["confidence"], rel["accuracy"], rel["count"]))
        keep = n > 0
        ax.plot(conf[keep], acc[keep], style, label=f"{name} (ECE {rel['ece']:.3f})")
    ax.set_xlabel("top-1 confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def swap_histogram(hist: dict, title: str) -> bytes:
    """Swapped predictions per bin of the float model's confidence, beside all samples."""
    edges = np.asarray(hist["edges"])
    mids, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges) * 0.9
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(mids, hist["total"], width=width, color="lightgray", label="all samples")
    ax.bar(mids, hist["swapped"], width=width, color="tab:red", label="swapped")
    ax.set_yscale("symlog")
    ax.set_xlabel("float model top-1 confidence")
    ax.set_ylabel("samples")
    ax.set_title(title)
    ax.legend()
    return _png(fig)


def layer_growth(rows: list[dict], title: str) -> bytes:
    """Max |Δ| vs the oracle and float MAE per op, in execution order: where drift starts and grows."""
    fig, ax = plt.subplots(figsize=(7, 3))
    pts = [(r["index"], r["max_abs"]) for r in rows if r["max_abs"] is not None]
    if pts:
        ax.plot(*zip(*pts), "o-", color="tab:red", label="max |Δ| vs TFLM (LSB)")
    ax.set_xlabel("op index (execution order)")
    ax.set_ylabel("LSB")
    fm = [(r["index"], r["float_mae"]) for r in rows if r.get("float_mae") is not None]
    if fm:
        ax2 = ax.twinx()
        ax2.plot(*zip(*fm), "s--", color="tab:blue", label="float MAE vs twin")
        ax2.set_ylabel("float MAE")
        ax2.legend(loc="upper right", fontsize=8)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title)
    return _png(fig)


def sweep_curves(table: dict, cal: dict, title: str) -> bytes:
    """Per weight-bit count: error float/device and swaps (left), device reliability curves (right)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    ks = [int(name[1:]) for name in table]
    for key, label, style in (("error_float_pct", "error float %", "k--"), ("error_device_pct", "error device %", "o-"),
                              ("swapped_pct", "swapped %", "s-")):
        a.plot(ks, [table[n][key] or 0 for n in table], style, label=label)
    a.set_xlabel("weight bits")
    a.set_ylabel("%")
    a.invert_xaxis()
    a.legend(fontsize=8)
    b.plot([0, 1], [0, 1], "k:")
    for name, c in cal.items():
        rel = c.get("reliability_device")
        if rel:
            conf, acc, n = map(np.asarray, (rel["confidence"], rel["accuracy"], rel["count"]))
            b.plot(conf[n > 0], acc[n > 0], "o-", ms=3, label=f"{name[1:]} bits (ECE {rel['ece']:.3f})")
    b.set_xlabel("top-1 confidence")
    b.set_ylabel("accuracy")
    b.legend(fontsize=8)
    fig.suptitle(title)
    return _png(fig)
