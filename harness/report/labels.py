"""Human labels for every metric key a report shows, and links into the glossary (docs/metrics.md).

Reports never print machine keys (`vs_tflm.top1_agreement_pct`): each key has a label here, and a
key without one is spelled out by `label()` (underscores to spaces, `pct` to %). Each report
section links to the glossary anchor that defines its figures; tests check the anchors exist."""

from __future__ import annotations

import os
from pathlib import Path

from ..analysis.figures import byte_size

GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"

REFERENCES = {"tflm": "TFLM oracle", "reference": "tflite-runtime reference kernels",
              "optimized": "tflite-runtime optimised kernels", "float": "float twin"}

LABELS = {
    "accuracy_device_pct": "accuracy, device %", "accuracy_float_pct": "accuracy, float twin %",
    "accuracy_tflm_pct": "accuracy, TFLM oracle %",
    "saturated_low_pct": "outputs at the lowest value %", "saturated_high_pct": "outputs at the highest value %",
    "dead_outputs": "output positions constant over all samples",
    "negative_confidences": "negative dequantised confidences", "worst_confidence": "lowest dequantised confidence",
    "softmax_sum_dev_mean": "mean |Σp − 1| per sample", "softmax_sum_dev_max": "max |Σp − 1| per sample",
    "float_softmax_sum_dev_mean": "mean |Σp − 1| per sample, float twin",
    "float_softmax_sum_dev_max": "max |Σp − 1| per sample, float twin",
    "top1_agreement_pct": "top-1 agreement %", "swapped_pct": "predictions changed %",
    "swapped": "predictions changed",
}

# report section → anchor in docs/metrics.md (an <a id> there)
ANCHORS = ("lsb-drift", "exactness", "float-drift", "classification", "sanity", "latency", "regression",
           "calibration", "per-layer", "memory", "caveats", "sweep")


def label(key: str) -> str:
    """The human label of a metric key; `vs_<ref>.<metric>` as "<metric> vs <reference>"."""
    if key.startswith("vs_") and "." in key:
        ref, metric = key[3:].split(".", 1)
        text = label(metric)
        pct = text.endswith(" %")
        return f"{text[:-2] if pct else text} vs {REFERENCES.get(ref, ref)}" + (" %" if pct else "")
    if key in LABELS:
        return LABELS[key]
    words = key.replace("_pct", " %").replace("_", " ")
    return words.replace("outputs ", "output ") if key.startswith("outputs_") else words


def tensor(key: str) -> str:
    """`outputs_0` → "output 0"."""
    return key.replace("outputs_", "output ")


def glossary_link(anchor: str, report_dir: Path) -> str:
    """A Markdown link from a report in `report_dir` to a glossary anchor (relative, so it works in
    the browser and on a forge alike)."""
    if anchor not in ANCHORS:
        raise ValueError(f"no glossary anchor {anchor!r}")
    rel = os.path.relpath(GLOSSARY, report_dir)
    return f"[definitions]({Path(rel).as_posix()}#{anchor})"


def size(n: int | None) -> str:
    """Bytes as the terminal prints them (figures.byte_size), or "not measured"."""
    return "not measured" if n is None else byte_size(n)
