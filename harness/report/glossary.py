"""The report's own glossary: what each figure means, under the labels the report's tables use.

It is the last section of report.md/html (and of sweep.html), with in-page anchors (labels.ANCHORS)
that every section's "definitions" link points to — so it travels with the results folder and needs
no checkout. Labels come from where the tables take them (labels.py, calibration_section.CAL_ROWS,
memory.MCU_ROWS/HOST_ROWS); the definitions are keyed by metric key. docs/metrics.md is the long
form with formulas and keys: a test checks it has the same anchors and every key defined here."""

from __future__ import annotations

from .calibration_section import CAL_ROWS
from .document import Doc
from .labels import (ANCHORS, FLOAT_COLUMNS, LATENCY_COLUMNS, LAYER_COLUMNS, LSB_COLUMNS, SUMMARY_EXACT_COLUMNS,
                     TOP1_COLUMNS, label)
from .memory import HOST_ROWS, MCU_ROWS
from .plots import FEW

_VERDICTS = (
    ("PASS", "overall: every model is bit-exact with the TFLM oracle"),
    ("BIT-EXACT", "every bit of every output of every sample equals the TFLM oracle's"),
    ("DRIFT", "some output element differs from the TFLM oracle (overall: in at least one model); the line gives "
              "the counts and the largest difference"),
    ("UNAVAILABLE", "no exactness verdict: the TFLM oracle could not run the model (the reason is given)"),
    ("UNCHECKED", "overall: nothing drifted, but at least one model had no oracle"),
    ("FAILED", "the run stopped before the model was analysed; what was measured is kept"),
    ("REGRESSION", "overall: a tolerance of the baseline check was broken (each one is listed); the worst "
                   "status present is the overall one: PASS, UNCHECKED, DRIFT, FAILED, REGRESSION"),
)

_DEFINITIONS = {
    # LSB drift and exactness: d = q_device − q_ref per output element
    "exact_pct": "share of output elements with d = 0, from the counts: 100 only when every element is equal",
    "differing": "how many elements differ (d ≠ 0), in how many of the samples, and the largest |d|",
    "mean_abs": "mean |d| over all elements, in output LSB",
    "max_abs": "the largest |d|, in output LSB; 1 LSB is the usual rounding-mode difference",
    "samples_differing_pct": "share of samples (inferences) with any d ≠ 0: how often a user would notice",
    "max_lsb": "the largest |d| over all outputs against the TFLM oracle, in LSB",
    # float drift: e = y_device − y_float, outputs dequantised as (q − zp)·scale
    "mae": "mean |e| over all elements", "rmse": "square root of the mean of e²", "cosine":
    "cosine similarity of the device's and the float twin's outputs (1: same direction)",
    "l2_rel": "‖e‖ / ‖y_float‖", "snr_db": "10·log10(‖y_float‖² / ‖e‖²); – when e is 0",
    # classification
    "top1_agreement_pct": "share of samples whose arg-max equals the reference's",
    "swapped": "samples whose arg-max differs from the reference's",
    "swapped_pct": "100 − agreement: how often quantisation changes the answer",
    "accuracy_device_pct": "share of labelled samples whose arg-max is the label (device)",
    "accuracy_float_pct": "the same for the float twin", "accuracy_tflm_pct": "the same for the TFLM oracle",
    # sanity
    "saturated_low_pct": "share of outputs at the type's minimum (−128 for int8)",
    "saturated_high_pct": "share of outputs at the type's maximum (127 for int8)",
    "dead_outputs": "output positions whose value never changes over the samples",
    "negative_confidences": "softmax outputs whose dequantised value is below 0 (the zero point maps some q below 0)",
    "worst_confidence": "the lowest dequantised softmax output",
    "softmax_sum_dev_mean": "mean over samples of |Σp − 1| (int8 steps of 1/256 show here)",
    "softmax_sum_dev_max": "the largest |Σp − 1| of a sample",
    "float_softmax_sum_dev_mean": "the same for the float twin (float32 rounding only)",
    "float_softmax_sum_dev_max": "the same for the float twin",
    # latency
    "n": "timed inferences (warm-up runs excluded)",
    "min_us": "per inference, measured on the device around invoke() only", "p50_us": "the median",
    "mean_us": "the mean; MCUs count cycles (instructions under QEMU -icount) at the board's clock",
    "p90_us": "90th percentile", "p99_us": "99th percentile", "max_us": "the slowest inference",
    "std_us": "standard deviation; exactly 0 when every inference took the same time",
    "load_time_s": "time to put the model on the target and have it accepted",
    # regression tolerances (`tolerances` of the bench config)
    "min_exact_pct": "least share of elements equal to the baseline's",
    "max_swapped_pct": "most predictions allowed to change against the baseline's",
    "max_latency_increase_pct": "largest p50 latency increase allowed (never compared across time units)",
    # calibration
    "samples": "samples compared with the float twin",
    "error_float_pct": "share of labelled samples the float twin gets wrong",
    "error_device_pct": "share of labelled samples the device gets wrong",
    "delta_error_pct": "device error − float error; near 0 although many answers changed when the swaps cancel",
    "swaps_per_abs_delta_error": "changed predictions % / |Δ error|: ≫ 1 when swaps cancel out in the error",
    "ece_float": "expected calibration error, Σ over 15 equal-width confidence bins of (bin share)·|accuracy − "
                 "confidence|; 0 is perfectly calibrated", "ece_device": "the same for the device",
    "confidence_shift_mean": "mean top-1 confidence of the device minus the float twin's: over/under-confidence",
    "median_float_confidence_swapped": "the float twin's median top-1 confidence where the answer changed "
                                       "(low: near-ties flipped)",
    "median_float_confidence_all": "the same over all samples",
    # per-layer
    "float_mae": "mean |e| of the op's dequantised output against the float twin's tensor of the same name",
    # memory
    "arena_used_bytes": "bytes of the tensor arena the loaded model's plan uses (MCU)",
    "arena_bytes": "the firmware's whole tensor arena (MCU)", "model_bytes": "the .tflite file as uploaded",
    "firmware_text_bytes": "the firmware ELF's code", "firmware_data_bytes": "its initialised data",
    "firmware_bss_bytes": "its zero-initialised data (the arena lives here)",
    "peak_rss_bytes": "host and SSH targets: the highest resident set size (getrusage) the process reached",
}

_CAVEATS = (
    ("random inputs", "seeded random inputs are far from a model's training distribution: float drift on them "
                      "bounds the arithmetic, it does not measure accuracy"),
    ("changed predictions on random inputs", "near-ties flipping; they say little about accuracy on real data "
                                             "(use a labelled dataset)"),
    ("hollow markers", f"reliability bins of fewer than {FEW} samples; the equal-mass panel bins by equal counts"),
    ("first diverging op", "claimed from readable tensors only; an unreadable op before it is named"),
    ("plots left out", "no LSB histogram for a bit-exact output, no latency histogram when every time is equal"),
    ("numbers", "four significant digits, grouped by spaces from 1 000, never e-notation for ordinary values; "
                "a value that is not exactly 0 or 100 never prints as one"),
)

_SWEEP = (("bits", "k: the weights of every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED op on a k-bit "
                   "per-channel symmetric grid (kept in int8 storage), activations 8-bit; 8 is the model itself"),)


def _keyed(columns, **meaning: str) -> list[tuple[str, str]]:
    """(label, definition) of each (key, label); `meaning` overrides a key's definition in this section."""
    return [(text, meaning.get(key) or _DEFINITIONS[key]) for key, text in columns]


def entries() -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """anchor → (title, [(label as the report prints it, definition)]), in ANCHORS' order."""
    memory = dict(MCU_ROWS + HOST_ROWS)
    tolerances = [(k, label(k)) for k in ("max_lsb", "min_exact_pct", "max_swapped_pct", "max_latency_increase_pct")]
    return {
        "lsb-drift": ("LSB drift: d = q_device − q_ref per output element, against each int8 reference",
                      _keyed(LSB_COLUMNS)),
        "exactness": ("Exactness and verdicts (against the TFLM oracle)",
                      list(_VERDICTS) + _keyed(SUMMARY_EXACT_COLUMNS)),
        "float-drift": ("Float drift: e = y_device − y_float, outputs dequantised as (q − zp)·scale",
                        _keyed(FLOAT_COLUMNS, max_abs="the largest |e|")),
        "classification": ("Classification (top-1 = arg-max)", _keyed(TOP1_COLUMNS) + _keyed(
            (k, label(k)) for k in ("accuracy_device_pct", "accuracy_float_pct", "accuracy_tflm_pct"))),
        "sanity": ("Sanity checks", _keyed((k, label(k)) for k in (
            "saturated_low_pct", "saturated_high_pct", "dead_outputs", "negative_confidences", "worst_confidence",
            "softmax_sum_dev_mean", "softmax_sum_dev_max", "float_softmax_sum_dev_mean", "float_softmax_sum_dev_max"))),
        "latency": ("Latency figures", _keyed(LATENCY_COLUMNS)),
        "regression": ("Regression against a baseline (tolerances)",
                       _keyed(tolerances, max_lsb="largest |d| allowed against the baseline's outputs")),
        "calibration": ("Calibration and changed predictions (float twin vs device)", _keyed(CAL_ROWS)),
        "per-layer": ("Per-layer drift (device vs TFLM oracle, op by op)", _keyed(
            LAYER_COLUMNS, exact_pct="the worst share, over the samples, of the op's output equal to the oracle's",
            max_abs="the largest |d| of the op's output against the oracle's, in LSB")),
        "memory": ("Memory figures", _keyed(memory.items())),
        "caveats": ("Caveats and how figures are printed", list(_CAVEATS)),
        "sweep": ("Weight-bit sweep", list(_SWEEP) + _keyed(SUMMARY_EXACT_COLUMNS[:1])),
    }


def section(doc: Doc, anchors=ANCHORS) -> None:
    """The glossary as the last section of a report: one anchored sub-section per entry in `anchors`."""
    doc.h(2, "Glossary")
    doc.p("What each figure in this report means; the long form with formulas and the keys of metrics.json "
          "is docs/metrics.md in the harness's source.")
    for anchor, (title, rows) in entries().items():
        if anchor in anchors:
            doc.h(3, title, anchor=anchor)
            doc.table(["in the report", "means"], [[text, meaning] for text, meaning in rows])


def keys() -> set[str]:
    """Every metric key the glossary defines (docs/metrics.md must name each one)."""
    return set(_DEFINITIONS)
