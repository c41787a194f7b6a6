"""Matplotlib figures as PNG bytes, for inlining in report.html."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from ..analysis.figures import number  # noqa: E402

COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:olive", "tab:cyan")  # 2–8 bits
FEW = 10  # a reliability bin with fewer samples says little: drawn hollow and flagged


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def lsb_histogram(hists: dict[str, dict[str, int]], title: str) -> bytes:
    """Histogram of d = q_device − q_ref per reference, log count axis: the references' bars side by
    side and outlined (translucent overlapping bars blend into colours the legend does not show)."""
    fig, ax = plt.subplots(figsize=(6, 3))
    width = 0.8 / max(len(hists), 1)
    for i, (name, hist) in enumerate(hists.items()):
        xs = np.array([int(k) for k in hist], dtype=float) + (i - (len(hists) - 1) / 2) * width
        ax.bar(xs, list(hist.values()), width=width, label=f"vs {name}", color=COLOURS[i % len(COLOURS)],
               edgecolor="black", linewidth=0.5)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0.8)  # a bar of 1 element shows
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_xlabel("d = q_device − q_ref (LSB)")
    ax.set_ylabel("elements")
    ax.set_title(title)
    ax.legend(fontsize=8)
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


def reliability_diagram(rel_float: dict, rel_device: dict, title: str, device_label: str = "device int8",
                        equal_mass: tuple[dict, dict] | None = None) -> bytes:
    """Accuracy vs confidence per bin, float twin and device on one plot (the diagonal is perfect),
    with each bin's sample count as bars underneath; bins of fewer than FEW samples are hollow.
    With `equal_mass` (the same over equal-count bins) a second panel shows those."""
    panels = [("equal-width bins", rel_float, rel_device)] + ([("equal-mass bins", *equal_mass)] if equal_mass else [])
    fig, axes = plt.subplots(2, len(panels), figsize=(4.6 * len(panels), 5.4), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    for col, (what, rf, rd) in enumerate(panels):
        top, bottom = axes[0][col], axes[1][col]
        top.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
        curves = ((rf, "float", "o"), (rd, device_label, "s"))
        for i, (rel, name, marker) in enumerate(curves):
            _reliability_curve(top, bottom, rel, name, marker, (i, len(curves)))
        _reliability_axes(top, bottom, f"{title} — {what}")
    return _png(fig)


def _reliability_curve(top, bottom, rel: dict, name: str, marker: str, slot: tuple[int, int], ms: float = 6) -> None:
    """One series of a reliability diagram: accuracy per bin on `top` (hollow markers for bins of
    fewer than FEW samples), the bins' sample counts on `bottom`. `slot` is (i, n): the i-th of n
    series, whose count bars stand side by side in each equal-width bin."""
    i, of = slot
    colour = COLOURS[i % len(COLOURS)]
    conf, acc, n = map(np.asarray, (rel["confidence"], rel["accuracy"], rel["count"]))
    keep = n > 0
    top.plot(conf[keep], acc[keep], "-", color=colour, label=f"{name} (ECE {number(rel['ece'])})")
    few = keep & (n < FEW)
    top.plot(conf[keep & ~few], acc[keep & ~few], marker, color=colour, ls="none", ms=ms)
    top.plot(conf[few], acc[few], marker, mfc="white", color=colour, ls="none", ms=ms)
    if "edges" in rel:  # equal-mass: each bin's whole confidence span, outlined (spans of the two may overlap)
        edges = np.asarray(rel["edges"])
        bottom.bar(edges[:-1], n, width=np.maximum(np.diff(edges), 0.004), align="edge", fill=False,
                   edgecolor=colour, linewidth=1.2, hatch="//" if i else None, label=f"{name}: bin span")
        return
    lo, wid = np.arange(len(n)) / len(n), 1 / len(n)  # equal-width: the series side by side in each bin
    bottom.bar(lo + wid * (0.05 + 0.9 * i / of), n, width=wid * 0.9 / of, align="edge", color=colour,
               edgecolor="black", linewidth=0.4, label=name)


def _reliability_axes(top, bottom, title: str) -> None:
    """Axes, labels and legends of a reliability panel (curves on top, counts below)."""
    top.set_ylabel("accuracy")
    top.set_xlim(0, 1)
    top.set_ylim(-0.02, 1.02)
    top.set_title(title, fontsize=9)
    top.legend(loc="upper left", fontsize=7)
    bottom.set_ylabel("samples")
    bottom.set_xlabel(f"top-1 confidence (hollow: bin of < {FEW} samples)")
    bottom.legend(fontsize=7, loc="upper left")


def swap_histogram(hist: dict, title: str) -> bytes:
    """Swapped predictions per bin of the float model's confidence, beside all samples."""
    edges = np.asarray(hist["edges"])
    mids, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges) * 0.9
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(mids - width / 4, hist["total"], width=width / 2, color="lightgray", edgecolor="black", linewidth=0.4,
           label="all samples")
    ax.bar(mids + width / 4, hist["swapped"], width=width / 2, color="tab:red", edgecolor="black", linewidth=0.4,
           label="swapped")
    ax.set_yscale("symlog")
    ax.set_xlabel("float model top-1 confidence")
    ax.set_ylabel("samples")
    ax.set_title(title)
    ax.legend()
    return _png(fig)


def layer_growth(rows: list[dict], title: str) -> bytes:
    """Max |Δ| vs the oracle and float MAE per op, in execution order: where drift starts and grows.
    Ops whose tensor could not be read are gaps in the line, marked on the axis — never bridged."""
    fig, ax = plt.subplots(figsize=(7, 3))
    idx = np.array([r["index"] for r in rows], dtype=float)
    lsb = np.array([np.nan if r["max_abs"] is None else r["max_abs"] for r in rows], dtype=float)
    ax.plot(idx, lsb, "o-", color="tab:red", label="max |Δ| vs TFLM (LSB)")
    gaps = idx[np.isnan(lsb)]
    if len(gaps):
        ax.plot(gaps, np.zeros(len(gaps)), "x", color="black", ms=8, clip_on=False, label="not readable")
        for g in gaps:
            ax.axvspan(g - 0.4, g + 0.4, color="0.9", zorder=0)
    ax.set_xlabel("op index (execution order)")
    ax.set_ylabel("LSB")
    ax.set_ylim(bottom=0, top=max(1.0, float(np.nanmax(lsb)) * 1.1 if not np.isnan(lsb).all() else 1.0))
    fm = np.array([np.nan if r.get("float_mae") is None else r["float_mae"] for r in rows], dtype=float)
    if not np.isnan(fm).all():
        ax2 = ax.twinx()
        ax2.plot(idx, fm, "s--", color="tab:blue", label="float MAE vs twin")
        ax2.set_ylabel("float MAE")
        ax2.legend(loc="upper right", fontsize=8)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title)
    return _png(fig)


def sweep_curves(table: dict, cal: dict, title: str) -> bytes:
    """Per weight-bit count: error float/device and swaps (left), the device's reliability curves with
    their bins' sample counts underneath (right, drawn as in the run report's reliability diagrams)."""
    fig = plt.figure(figsize=(10, 5.4))
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 1])
    a, b = fig.add_subplot(grid[:, 0]), fig.add_subplot(grid[0, 1])
    counts = fig.add_subplot(grid[1, 1], sharex=b)
    ks = [int(name[1:]) for name in table]
    for key, label, style in (("error_float_pct", "error float %", "k--"), ("error_device_pct", "error device %", "o-"),
                              ("swapped_pct", "swapped %", "s-")):
        a.plot(ks, [table[n][key] or 0 for n in table], style, label=label)
    a.set_xlabel("weight bits")
    a.set_ylabel("%")
    a.invert_xaxis()
    a.legend(fontsize=8)
    b.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
    curves = [(name, c["reliability_device"]) for name, c in cal.items() if c.get("reliability_device")]
    for i, (name, rel) in enumerate(curves):
        _reliability_curve(b, counts, rel, f"{name[1:]} bits", "o", (i, len(curves)), ms=4)
    _reliability_axes(b, counts, "device reliability per weight-bit count")
    fig.suptitle(title)
    return _png(fig)
