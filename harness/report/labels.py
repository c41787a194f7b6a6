"""Human labels for every metric key a report shows, and links to the report's own glossary.

Reports never print machine keys (`vs_tflm.top1_agreement_pct`): each key has a label here, and a
key without one is spelled out by `label()` (underscores to spaces, `pct` to %). Each report
section links to an in-page glossary anchor (glossary.py defines the figures under these labels,
at the end of the report), so the links work wherever the results folder goes."""

from __future__ import annotations

from ..analysis.figures import byte_size

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
    "swapped": "predictions changed", "max_lsb": "max LSB",
}

# the column headers of the report's tables, by the key each column shows (glossary.py defines them)
LSB_COLUMNS = (("exact_pct", "exact %"), ("differing", "differing"), ("mean_abs", "mean |d|"),
               ("max_abs", "max |d|"), ("samples_differing_pct", "samples differing %"))
FLOAT_COLUMNS = (("mae", "MAE"), ("rmse", "RMSE"), ("max_abs", "max |Δ|"), ("cosine", "cosine"), ("l2_rel", "L2 rel"),
                 ("snr_db", "SNR dB"))
LATENCY_COLUMNS = (("n", "inferences"), ("min_us", "min µs"), ("p50_us", "p50 µs"), ("mean_us", "mean µs"),
                   ("p90_us", "p90 µs"), ("p99_us", "p99 µs"), ("max_us", "max µs"), ("std_us", "std µs"),
                   ("load_time_s", "model load s"))
TOP1_COLUMNS = (("top1_agreement_pct", "agreement %"), ("swapped", "predictions changed"), ("swapped_pct", "changed %"))
SUMMARY_EXACT_COLUMNS = (("exact_pct", "exact vs TFLM %"), ("differing", "differing vs TFLM"),
                         ("max_lsb", "max |Δ| LSB"))
LAYER_COLUMNS = (("exact_pct", "exact %"), ("max_abs", "max |Δ| LSB"), ("float_mae", "float MAE vs twin"))

# the glossary's sections (in-page anchors of report.html/md; docs/metrics.md has the same <a id>s)
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


def glossary_link(anchor: str) -> str:
    """A Markdown link to a section of the report's own glossary: in-page, so it keeps working when
    the results folder is moved or the harness is installed without its docs/."""
    if anchor not in ANCHORS:
        raise ValueError(f"no glossary anchor {anchor!r}")
    return f"[definitions](#{anchor})"


def size(n: int | None) -> str:
    """Bytes as the terminal prints them (figures.byte_size), or "not measured"."""
    return "not measured" if n is None else byte_size(n)
