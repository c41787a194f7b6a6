"""The calibration and swapped-predictions part of a model's section (float twin vs device)."""

from __future__ import annotations

from . import plots
from .document import Doc

CAL_ROWS = (("samples", "samples"), ("swapped_pct", "predictions changed vs the float twin %"),
            ("error_float_pct", "error, float twin %"), ("error_device_pct", "error, device %"),
            ("delta_error_pct", "Δ error (device − float) %"), ("swaps_per_abs_delta_error", "changed predictions / |Δ error|"),
            ("ece_float", "ECE, float twin (15 bins)"), ("ece_device", "ECE, device (15 bins)"),
            ("confidence_shift_mean", "top-1 confidence shift (device − float)"),
            ("median_float_confidence_swapped", "median float confidence of the changed predictions"),
            ("median_float_confidence_all", "median float confidence of all"))


def section(doc: Doc, ctx, name: str, cal: dict) -> None:
    doc.h(3, "Calibration and swapped predictions (float twin vs device)")
    doc.p(f"Does the drift matter for the answers? ({ctx.gloss('calibration')})")
    doc.table(["metric", "value"], [[label, cal[k]] for k, label in CAL_ROWS if k in cal])
    h = cal["swaps_by_float_confidence"]
    doc.table(["float confidence bin"] + [f"{a:.1f}–{b:.1f}" for a, b in zip(h["edges"], h["edges"][1:])],
              [["changed"] + h["swapped"], ["all"] + h["total"]])
    if not ctx.with_plots:
        return
    if "reliability_float" in cal:
        rf, rd = cal["reliability_float"], cal["reliability_device"]
        few = sum(1 for n in rd["count"] if 0 < n < plots.FEW)
        mass = cal.get("reliability_float_equal_mass"), cal.get("reliability_device_equal_mass")
        doc.p(f"Reliability: accuracy against confidence per bin, sample counts underneath. "
              + (f"{few} of the device's {sum(1 for n in rd['count'] if n)} non-empty equal-width bins hold fewer "
                 f"than {plots.FEW} samples (hollow markers): read them with care. " if few else "")
              + ("The right panel bins by equal sample counts." if all(mass) else ""))
        doc.img(plots.reliability_diagram(rf, rd, f"{name}: reliability", equal_mass=mass if all(mass) else None),
                f"{name} reliability diagram")
    doc.img(plots.swap_histogram(h, f"{name}: changed predictions by float confidence"),
            f"{name} swapped predictions histogram")
