"""The named arithmetic variants tried per op: what each computes and which kernel sets compute
that way (facts from their published sources; docs/attribution.md has the formulas and the
threads they answer). The first entry of every list is TFLM's arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

from .arith import TFLM, Arith


@dataclass(frozen=True)
class Variant:
    name: str
    arith: Arith
    what: str  # the arithmetic, in a few words
    who: str = ""  # kernel sets known to compute this way


V = Variant
REQUANT = (
    V("tflm", TFLM, "double rounding: SRDHM (ties toward +inf), then a rounding shift ties away from zero",
      "TFLM, TFLite reference kernels, CMSIS-NN default"),
    V("ruy-x86", Arith(rounding="up"), "double rounding: SRDHM, then a rounding shift ties toward +inf",
      "ruy's x86 AVX/AVX2/AVX-512 kernels since 2020: TFLite's optimised CONV_2D/FULLY_CONNECTED on x86"),
    V("single-up", Arith(requant="single", rounding="up"), "single rounding of the 64-bit product, ties "
      "toward +inf", "TFLITE_SINGLE_ROUNDING builds, CMSIS_NN_USE_SINGLE_ROUNDING, ruy's reference path"),
    V("ruy-arm64", Arith(high_mul="floor", rounding="up"), "truncating high multiply (SQDMULH) then a "
      "rounding shift ties up (SRSHL): single rounding, none when the shift is 0", "ruy's arm64 kernels since 2021"),
    V("double-away", Arith(high_mul="away"), "double rounding with the high multiply rounding ties away from "
      "zero (a symmetric reimplementation of SRDHM)"),
    V("single-away", Arith(requant="single", rounding="away"), "single rounding, ties away from zero"),
    V("single-even", Arith(requant="single", rounding="even"), "single rounding, ties to even"),
    V("fp32-even", Arith(requant="float", rounding="even"), "float32 scale, round half to even",
      "XNNPACK's fp32 requantisation"),
    V("fp32-away", Arith(requant="float", rounding="away"), "float32 scale, round half away",
      "TFLite >= 2.20 reference FULLY_CONNECTED (tensorflow#119412, CMSIS-NN#214)"),
    V("fp64-away", Arith(requant="float64", rounding="away"), "double-precision scale, round half away"),
    V("srdhm-floor-shift", Arith(rounding="floor"), "SRDHM then a truncating shift (a lost rounding)"),
    V("per-tensor", Arith(per_channel=False), "TFLM rounding with channel 0's multiplier on every channel "
      "(per-channel quantisation ignored)"),
    V("float-product", Arith(scale="float_product"), "TFLM rounding, the per-tensor FULLY_CONNECTED multiplier "
      "from a float32 input x weight scale product", "older TFLite; our engine before the exact branch's fix"),
    V("float-multiplier", Arith(scale="float"), "TFLM rounding, multipliers from float32 scale products"),
    V("int64-acc", Arith(acc="int64"), "TFLM rounding on a 64-bit sum saturated to int32 (no wrap)"),
)
ADD = REQUANT[:7] + (
    V("neon-add", Arith(form="neon"), "each input's shift folded into its left shift before SRDHM (one "
      "rounding per input instead of two)", "TFLite's NEON int8 ADD"),
    V("xnnpack", Arith(requant="xnnpack"), "21-bit fixed-point multipliers, one sum, one shift ties up",
      "XNNPACK's qs8 add"),
    V("float-away", Arith(requant="float", rounding="away"), "the exact sum rounded once, half away"),
    V("float-even", Arith(requant="float", rounding="even"), "the exact sum rounded once, half to even"),
)
MUL = REQUANT[:9]
POOL_AVG = (
    V("tflm", TFLM, "sum / count rounded half away from zero", "TFLM, TFLite"),
    V("bias-trunc", Arith(pool="trunc_bias"), "(sum + count/2) / count with C division whatever the sign"),
    V("half-up", Arith(pool="up"), "sum / count rounded half toward +inf"),
    V("half-even", Arith(pool="even"), "sum / count rounded half to even"),
    V("floor", Arith(pool="floor"), "sum / count rounded down"),
    V("float", Arith(pool="float"), "float32 division, rounded half away"),
)
EXACT = (V("tflm", TFLM, "no arithmetic: the bytes are moved", "every kernel set"),)
PAD = EXACT + (V("fill-zero", Arith(form="zero"), "padding filled with 0 instead of the zero point"),)
SOFTMAX = (
    V("tflm", TFLM, "gemmlowp fixed-point exp and reciprocal", "TFLM, TFLite reference"),
    V("lut-float", Arith(exp="lut"), "float expf table, float32 sum, probabilities rounded half away",
      "TFLite's optimised kernels (x86, and builds without the uint16 table)"),
    V("lut-uint16", Arith(exp="lut16"), "uint16 exp table, integer sum, one requantisation",
      "TFLite's optimised kernels on aarch64 built with clang"),
    V("float-away", Arith(exp="float", rounding="away"), "exact softmax rounded half away"),
    V("float-even", Arith(exp="float", rounding="even"), "exact softmax rounded half to even"),
)
LOGISTIC = (
    V("tflm", TFLM, "gemmlowp fixed-point logistic", "TFLM, TFLite reference"),
    V("lut-float", Arith(exp="lut"), "a 256-entry table built in float32", "TFLite's optimised kernels"),
    V("float-away", Arith(exp="float", rounding="away"), "exact sigmoid rounded half away"),
    V("float-even", Arith(exp="float", rounding="even"), "exact sigmoid rounded half to even"),
)
QUANTIZE_FLOAT = (
    V("tflm", TFLM, "x / scale in float32, rounded half away from zero", "TFLM, TFLite"),
    V("reciprocal-even", Arith(form="reciprocal", rounding="even"), "x * (1/scale), rounded half to even",
      "XNNPACK's convert"),
    V("reciprocal-away", Arith(form="reciprocal"), "x * (1/scale), rounded half away"),
    V("divide-even", Arith(rounding="even"), "x / scale, rounded half to even"),
)
DEQUANTIZE = (
    V("tflm", TFLM, "scale * (q - zp) as a float32 product", "TFLM, TFLite"),
    V("double-product", Arith(form="double"), "the product in double, rounded to float32"),
)
MEAN = (
    V("tflm", TFLM, "integer sum, 1/n folded into one multiplier, double rounding", "TFLM"),
    V("tflite-float", Arith(form="float", rounding="away"), "float32 sum / n, scale and zero point in "
      "float, rounded half away", "TFLite's reference mean"),
    V("tflite-hw", Arith(form="hw"), "1/n in a float multiplier, the input zero point as a "
      "float-rounded bias, double rounding", "TFLite's 4-D height-width mean"),
    V("tflite-hw-ruy-x86", Arith(form="hw", rounding="up"), "the height-width mean, its shift rounding "
      "ties toward +inf"),
) + REQUANT[1:4]
TABLE = {"CONV_2D": REQUANT, "DEPTHWISE_CONV_2D": REQUANT, "FULLY_CONNECTED": REQUANT, "ADD": ADD, "MUL": MUL,
         "AVERAGE_POOL_2D": POOL_AVG, "MAX_POOL_2D": EXACT, "SOFTMAX": SOFTMAX, "LOGISTIC": LOGISTIC,
         "QUANTIZE": REQUANT[:9], "DEQUANTIZE": DEQUANTIZE, "MEAN": MEAN, "RESHAPE": EXACT,
         "PAD": PAD, "PADV2": PAD, "CONCATENATION": EXACT}


def for_op(name: str, op=None) -> tuple[Variant, ...]:
    """The variants tried for an op type (and, for QUANTIZE, its input type)."""
    if name == "QUANTIZE" and op is not None and op.inputs[0].dtype == "float32":
        return QUANTIZE_FLOAT
    return TABLE.get(name, EXACT)


def describe(op_name: str, name: str) -> str:
    """'what (who)' of variant `name` for op type `op_name`."""
    for v in TABLE.get(op_name, EXACT) + (QUANTIZE_FLOAT if op_name == "QUANTIZE" else ()):
        if v.name == name:
            return f"{v.what} ({v.who})" if v.who else v.what
    return name
