"""The report's words: one paragraph answering "does it drift, how much, does it matter", and the
caveats that apply to this run. Built from the run summary (analysis.verdict: the verdicts are
computed there, once) and metrics.json; every figure printed with analysis.figures."""

from __future__ import annotations

from ..analysis.figures import count, number, percent, share

SHOWN = 3  # models named per sentence; the summary table has the rest


def _names(models, more: int) -> str:
    return "; ".join(models) + (f"; {more} more in the table" if more > 0 else "")


def answer(ctx) -> str:
    """Three short answers in one paragraph."""
    return " ".join(p for p in (_drifts(ctx), _how_much(ctx), _matters(ctx)) if p)


def _drifts(ctx) -> str:
    models = ctx.summary.models
    n = len(models)
    by = {s: [m for m in models if m.status == s] for s in ("BIT-EXACT", "DRIFT", "UNAVAILABLE", "FAILED")}
    out = []
    if by["DRIFT"]:
        worst = sorted(by["DRIFT"], key=lambda m: -m.exactness["differing"] / max(m.exactness["elements"], 1))
        out.append(f"Does it drift? Yes, on {len(worst)} of {n} models the device's int8 outputs differ from the "
                   "TFLM oracle's (the reference an MCU must equal bit for bit): "
                   + _names([f"{m.name}: {share(m.exactness['differing'], m.exactness['elements'])} % of output "
                             f"elements, up to {m.exactness.get('max_lsb', 0)} LSB" for m in worst[:SHOWN]],
                            len(worst) - SHOWN) + ".")
        if by["BIT-EXACT"]:
            out.append(f"The other {len(by['BIT-EXACT'])} are bit-exact.")
    elif by["BIT-EXACT"]:
        k = len(by["BIT-EXACT"])
        every = "the model" if n == 1 else f"all {n} models" if k == n else f"{k} of {n} models"
        samples = sorted({int(m.exactness.get("samples", 0)) for m in by["BIT-EXACT"]})
        each = f"{count(samples[0])} samples" + (" each" if len(by["BIT-EXACT"]) > 1 else "") if len(samples) == 1 else \
            f"{count(samples[0])}–{count(samples[-1])} samples each"
        out.append(f"Does it drift? No: every output byte of {every} equals the TFLM oracle's (the int8 "
                   f"reference an MCU must equal) on {each}.")
    if by["UNAVAILABLE"]:
        out.append(f"{len(by['UNAVAILABLE'])} model(s) could not be checked: the TFLM oracle is unavailable for "
                   + ", ".join(m.name for m in by["UNAVAILABLE"][:SHOWN]) + ".")
    if by["FAILED"]:
        out.append(f"{len(by['FAILED'])} model(s) were not measured: the run stopped first.")
    return " ".join(out)


def _how_much(ctx) -> str:
    """Against the float twin: the quantisation error, and how much of it the device adds."""
    rows = []
    for mv in ctx.summary.models:
        t = ((ctx.mets.get(mv.name) or {}).get("tensors") or {}).get("outputs_0", {})
        if t.get("float"):
            rows.append((mv, t["float"]["mae"], (t.get("float_oracle") or {}).get("mae")))
    if not rows:
        return "How much against the float model? Not measured: no model has a float twin."
    rows.sort(key=lambda r: -r[1])
    text = "How much against the float model? Mean absolute error of the dequantised outputs: " + _names(
        [f"{mv.name}: {number(mae)}" + ("" if oracle is None or oracle == mae else f" (TFLM: {number(oracle)})")
         for mv, mae, oracle in rows[:SHOWN]], len(rows) - SHOWN) + "."
    if all(mv.status == "BIT-EXACT" for mv, _, _ in rows):
        text += " All of it is the model's own quantisation: the device adds nothing to what TFLM computes."
    return text


def _matters(ctx) -> str:
    labelled, random = [], []
    for mv in ctx.summary.models:
        cal = (ctx.mets.get(mv.name) or {}).get("calibration") or {}
        if "error_float_pct" in cal:
            labelled.append(f"{mv.name}: error {percent(cal['error_float_pct'])} % float → "
                            f"{percent(cal['error_device_pct'])} % device ({count(cal['swapped'])} of "
                            f"{count(cal['samples'])} predictions changed)")
        elif cal and _random_inputs(ctx, mv.name):
            random.append(mv.name)
    if labelled:
        text = "Does it matter? On labelled data: " + _names(labelled[:SHOWN], len(labelled) - SHOWN) + "."
        return text + (f" {', '.join(random[:SHOWN])}: changed predictions on random inputs only (see Caveats)."
                       if random else "")
    if random:
        return (f"Does it matter? Not measured on real data: {', '.join(random[:SHOWN])} compared predictions "
                "on random inputs only (see Caveats); give a labelled dataset to measure accuracy.")
    return ("Does it matter? Not measured: no model has a float twin with a labelled dataset "
            "(`float:` and `dataset:` in the config).")


def _random_inputs(ctx, name: str) -> bool:
    return str((ctx.meta["models"].get(name) or {}).get("input_source", "")).startswith("random")


def caveats(ctx) -> list[str]:
    """What the reader must keep in mind for this run; empty when nothing applies."""
    random = [mv.name for mv in ctx.summary.models if _random_inputs(ctx, mv.name) and _compared_to_float(ctx, mv.name)]
    notes = []
    if random:
        notes.append(f"{', '.join(random)} ran on seeded random inputs, far from the training distribution: the "
                     "float drift measured on them bounds the arithmetic, it does not measure accuracy on real data "
                     "(give a labelled `dataset:` in the config).")
    for name in random:
        cal = (ctx.mets.get(name) or {}).get("calibration") or {}
        if cal.get("swapped"):
            notes.append(_swaps_on_random(ctx, name, cal))
    return notes


def _compared_to_float(ctx, name: str) -> bool:
    m = ctx.mets.get(name) or {}
    return bool(m.get("calibration") or (m.get("tensors") or {}).get("outputs_0", {}).get("float"))


def _swaps_on_random(ctx, name: str, cal: dict) -> str:
    """The KWS case: most predictions "swapped" vs the float twin, on inputs no microphone gives."""
    sanity = (ctx.mets[name].get("tensors") or {}).get("outputs_0", {}).get("sanity", {})
    low, high = sanity.get("saturated_low_pct") or 0, sanity.get("saturated_high_pct") or 0
    text = (f"{name}: {percent(cal['swapped_pct'])} % of predictions ({count(cal['swapped'])} of "
            f"{count(cal['samples'])}) changed vs the float twin — measured on random inputs")
    if low or high:
        text += f", where {percent(low)} % of the int8 outputs sit at the lowest value and {percent(high)} % at the highest"
    if cal.get("median_float_confidence_swapped") is not None:
        text += (f"; the float model's median confidence is {number(cal['median_float_confidence_swapped'])} on the "
                 f"changed ones, {number(cal['median_float_confidence_all'])} on all")
    return text + ". This says little about accuracy on real data: measure it on a labelled dataset."


def model_caveat(ctx, name: str) -> str | None:
    """One line in the model's own section pointing at the caveat that applies to it."""
    if not (_random_inputs(ctx, name) and _compared_to_float(ctx, name)):
        return None
    return ("Caveat: the float-twin comparisons below ran on random inputs, far from the training distribution; "
            "they do not measure accuracy on real data ([Caveats](#caveats)).")
