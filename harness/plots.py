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
