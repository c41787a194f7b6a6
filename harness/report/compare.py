"""`harness compare` laid out: two runs (one row per model and output tensor) or N runs side by
side (identical-byte groups, the exact-match matrix, the p50 spread; the lab report's cross-board
section). analysis/compare.py and compare_many.py compute every figure; this only lays them out."""

from __future__ import annotations

import math

from ..analysis.compare import verdicts
from ..analysis.figures import count, differing, exact_share, number, percent
from .document import Doc


def pct(v: float | None) -> str:
    """A percentage that prints 100 only when it is exactly 100 (rounded down otherwise)."""
    if v is None:
        return "–"
    return "100" if v >= 100.0 else f"{math.floor(v * 1000) / 1000:.3f}"


def render_pair(results: dict[str, dict], title: str) -> Doc:
    """One row per model and output tensor: exactness with counts, swaps, latency change."""
    doc = Doc()
    doc.h(2, title)
    rows = [[n, k, r["samples"], exact_share(t), differing(t), t["mean_abs"], t["max_abs"],
             f"{count(r['swapped'])} ({percent(r['swapped_pct'])} %)", r["p50_us_a"], r["p50_us_b"],
             r["latency_change_pct"]]
            for n, r in results.items() for k, t in r["tensors"].items()]
    doc.table(["model", "tensor", "samples", "exact %", "differing", "mean |d|", "max |d|", "swapped",
               "p50 µs A", "p50 µs B", "latency Δ %"], rows)
    for n, line in verdicts(results, "run B").items():
        doc.p(f"{n}: run A is {line}.")
    return doc


def render_many(results: dict[str, dict], doc: Doc | None = None, title: str = "Across runs") -> Doc:
    doc = doc or Doc()
    doc.h(2, title)
    for name, r in results.items():
        labels = r["labels"]
        doc.h(3, f"{name}: raw-output agreement ({r['samples']} samples)")
        groups = r["identical_groups"]
        doc.p("All runs computed identical bytes." if len(groups) == 1 else
              "Groups computing identical bytes: " + "; ".join("{" + ", ".join(g) + "}" for g in groups))
        doc.table(["exact %"] + labels, [[a] + [pct(v) for v in row] for a, row in zip(labels, r["exact_pct"])])
        spread = r["p50_spread_pct"]
        doc.table(["run", "p50 µs"], [[a, v] for a, v in zip(labels, r["p50_us"])])
        doc.p(f"p50 latency spread: {number(min(r['p50_us']))}–{number(max(r['p50_us']))} µs"
              + (f" ({spread:.2f} % of the fastest)" if spread is not None else ""))
    return doc
