"""MLPerf Tiny facts per model id, the bytes `db` sends per model, and the int8 outputs recovered
from the dequantised decimals a device prints.

The reference submissions (mlcommons/tiny benchmark/reference_submissions) take kws01 inputs as
int8 bytes, ic01/vww01 inputs as uint8 pixels (the device subtracts 128) and ad01 inputs as
float32 (the device quantises); they print (q − zp) · scale with three decimals — kws01
truncated ("0.%d%d%d"), ic01/vww01 rounded (%0.3f) — and ad01 prints one anomaly score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.tensors import TensorSpec
from ...errors import ConfigError, TargetError

ENCODINGS = ("int8", "uint8", "float32")
RULES = ("auto", "truncate", "round")


@dataclass(frozen=True)
class ModelFacts:
    """One benchmark model: its IO as the runner sends it, the runner's performance counts
    (tests_performance.yaml: `infer N W`) and the quality target."""

    encoding: str
    input_elems: int
    classes: int  # printed values per inference (ad01: 1 score)
    perf: tuple[int, int]  # (N, W)
    metric: str  # "top1" (%) or "auc"
    target: float


MODELS = {
    "kws01": ModelFacts("int8", 49 * 10, 12, (70, 10), "top1", 90.0),
    "vww01": ModelFacts("uint8", 96 * 96 * 3, 2, (20, 5), "top1", 80.0),
    "ic01": ModelFacts("uint8", 32 * 32 * 3, 10, (20, 5), "top1", 85.0),
    "ad01": ModelFacts("float32", 640, 1, (1500, 10), "auc", 0.85),
}
DEFAULT_PERF = (20, 5)  # counts for a model id the runner does not know


def guess_model_id(inputs: tuple[TensorSpec, ...], outputs: tuple[TensorSpec, ...]) -> str:
    """The benchmark id whose IO sizes a .tflite has ("" if none): what our firmware announces."""
    elems = int(np.prod(inputs[0].shape)) if len(inputs) == 1 else -1
    outs = int(np.prod(outputs[0].shape)) if len(outputs) == 1 else -1
    for mid, f in MODELS.items():
        if elems == f.input_elems and (outs == f.classes or (f.metric == "auc" and outs == elems)):
            return mid
    return ""


def encoding_for(option: str, model_id: str) -> str:
    if option != "auto":
        if option not in ENCODINGS:
            raise ConfigError(f"input_encoding: {option!r} is not one of auto, {', '.join(ENCODINGS)}")
        return option
    return MODELS[model_id].encoding if model_id in MODELS else "int8"


def encode_input(row: np.ndarray, spec: TensorSpec, encoding: str) -> bytes:
    """One sample's int8 values as the bytes the device's th_load_tensor expects."""
    if encoding == "uint8":
        return (row.astype(np.int16) + 128).astype(np.uint8).tobytes()
    if encoding == "float32":
        from ...core.tensors import dequantize

        return dequantize(row, spec).astype("<f4").tobytes()
    return np.ascontiguousarray(row).tobytes()


def decode_input(raw: bytes, spec: TensorSpec, encoding: str) -> np.ndarray:
    """The inverse of encode_input for a dataset file in the runner's layout."""
    if encoding == "uint8":
        return (np.frombuffer(raw, np.uint8).astype(np.int16) - 128).astype(np.int8)
    if encoding == "float32":
        from ...core.tensors import quantize

        return quantize(np.frombuffer(raw, "<f4"), spec)
    return np.frombuffer(raw, np.int8).copy()


def encoded_bytes(spec: TensorSpec, encoding: str) -> int:
    elems = int(np.prod(spec.shape))
    return elems * 4 if encoding == "float32" else elems


@dataclass
class Recovered:
    """int8 values recovered from printed decimals, and how sure each one is."""

    q: np.ndarray  # int8
    ambiguous: int  # values for which two or more int8 values print the same
    width: float  # width of the real interval one printed value allows (largest seen)


def _interval(p: np.ndarray, unit: np.ndarray, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """Real values that print as p with `unit` = 10^-decimals: truncated toward zero, rounded,
    or either (auto)."""
    neg = p < 0
    trunc_lo = np.where(neg, p - unit, p)
    trunc_hi = np.where(neg, p, p + unit)
    if rule == "truncate":
        return trunc_lo, trunc_hi
    if rule == "round":
        return p - unit / 2, p + unit / 2
    return np.minimum(trunc_lo, p - unit / 2), np.maximum(trunc_hi, p + unit / 2)


def recover_int8(texts: tuple[str, ...], spec: TensorSpec, rule: str) -> Recovered:
    """The q with (q − zp) · scale printing as each text; the nearest one when several do.
    TargetError when none does (the .tflite is not the one compiled into the firmware)."""
    p = np.array([float(t) for t in texts])
    decimals = np.array([len(t.split(".")[1]) if "." in t and "e" not in t.lower() else 6 for t in texts])
    unit = 10.0 ** -decimals.astype(np.float64)
    lo, hi = _interval(p, unit, rule)
    eps = 1e-6 * np.maximum(1.0, np.abs(p))  # float32 arithmetic on the device
    first = np.ceil((lo - eps) / spec.scale + spec.zero_point)
    last = np.floor((hi + eps) / spec.scale + spec.zero_point)
    first, last = np.maximum(first, -128), np.minimum(last, 127)
    if np.any(last < first):
        i = int(np.argmax(last < first))
        raise TargetError(f"printed value {texts[i]} (position {i}) is no int8 value of the output (scale "
                          f"{spec.scale:.6g}, zero point {spec.zero_point}): is the .tflite the one compiled into "
                          "the firmware?")
    centre = np.clip(np.rint((lo + hi) / 2 / spec.scale + spec.zero_point), first, last)
    q = np.where(first == last, first, centre).astype(np.int8)
    return Recovered(q, int(np.sum(last > first)), float(np.max(hi - lo)))


def resolves_one_lsb(scale: float, decimals: int, rule: str) -> bool:
    """Whether `decimals` printed decimals always single out one int8 value of this scale."""
    unit = 10.0 ** -decimals
    return scale > (1.5 * unit if rule == "auto" else unit)


def check_rule(rule: str) -> str:
    if rule not in RULES:
        raise ConfigError(f"rounding: {rule!r} is not one of {', '.join(RULES)}")
    return rule
