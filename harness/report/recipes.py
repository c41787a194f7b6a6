"""The comparison of `harness recipes`: one row per recipe from its bench run's metrics.json
(analysis.py and calibration.py computed everything; this only picks and lays out), written as
recipes.json, recipes.md and recipes.html (with a reliability diagram per recipe) in
results/recipes/<target>/<id>/. How to read it: docs/recipes.md."""

from __future__ import annotations

import re
import time
from pathlib import Path

from ..core.config import TargetConfig
from ..results.files import load_arrays, read_json, write_atomic, write_json
from ..results.recipes import LABELS, Made
from . import plots
from .document import Doc

HEADERS = ["recipe", "status", "bytes", "p50 latency µs", "accuracy %", "Δ error vs float (pp)", "swaps %",
           "swaps / |Δ error|", "ECE float → recipe", "vs TFLM: exact % / max |Δ|", "vs TFLite ref: exact % / max |Δ|",
           "MAE vs float", "TF interpreter accuracy %"]


def _drift(t: dict, ref: str) -> dict | None:
    d = t.get("vs", {}).get(ref)
    return None if d is None else {"exact_pct": d["exact_pct"], "max_abs": d["max_abs"], "unit": d.get("unit", "LSB")}


def measured(run_dir: Path, name: str) -> dict:
    """The figures of one recipe's bench run (its metrics.json)."""
    m = read_json(run_dir / "metrics.json")[name]
    meta = read_json(run_dir / "run.json")
    cal, cls = m.get("calibration", {}), m.get("classification", {})
    t0 = m["tensors"]["outputs_0"]
    return {"latency_p50_us": m["latency"].get("p50_us"), "time_unit": meta.get("target", {}).get("time_unit"),
            "samples": m["samples"], "accuracy_pct": cls.get("accuracy_device_pct"),
            "accuracy_float_pct": cls.get("accuracy_float_pct"), "delta_error_pp": cal.get("delta_error_pct"),
            "swapped_pct": cal.get("swapped_pct"), "swaps_per_abs_delta_error": cal.get("swaps_per_abs_delta_error"),
            "ece_float": cal.get("ece_float"), "ece_recipe": cal.get("ece_device"),
            "reliability_float": cal.get("reliability_float"), "reliability_recipe": cal.get("reliability_device"),
            "vs_tflm": _drift(t0, "tflm"), "vs_reference": _drift(t0, "reference"),
            "mae_vs_float": t0.get("float", {}).get("mae"), "output": meta["models"][name]["outputs"][0]["dtype"]}


def table(made: Made, rows: dict[str, dict]) -> dict[str, dict]:
    """recipe -> every figure of its row, in the converter's order."""
    out = {}
    for name in list(made.info.get("recipes", {})) or list(rows):
        r = made.info["recipes"].get(name, {})
        row = {"label": LABELS.get(name, name), "size": r.get("size"), "tf_accuracy_pct": r.get("tf_accuracy_pct"),
               "settings": r.get("settings"), **rows.get(name, {})}
        if "run" in row:
            row.update(measured(Path(row["run"]), name), status="measured")
        elif "cannot_run" in row:
            row["status"] = "cannot run on this target"
        else:
            row["status"] = "not made"
        out[name] = row
    return out


def _pair(d: dict | None) -> str | None:
    if d is None:
        return None
    mx = d["max_abs"]
    return f"{d['exact_pct']:.4g} / {mx:.3g}" + ("" if d["unit"] == "LSB" else " (float)")


def _cells(row: dict) -> list:
    ece = None if row.get("ece_recipe") is None else f"{row['ece_float']:.4f} → {row['ece_recipe']:.4f}"
    lat = row.get("latency_p50_us")
    return [row["label"], row["status"], row.get("size"), None if lat is None else f"{lat:.1f}", row.get("accuracy_pct"),
            row.get("delta_error_pp"), row.get("swapped_pct"), row.get("swaps_per_abs_delta_error"), ece,
            _pair(row.get("vs_tflm")), _pair(row.get("vs_reference")), row.get("mae_vs_float"),
            row.get("tf_accuracy_pct")]


def render(tab: dict[str, dict], tcfg: TargetConfig, made: Made, ev: Path) -> Doc:
    doc = Doc()
    doc.h(1, f"Quantisation recipes on {tcfg.name}")
    n = next((r["samples"] for r in tab.values() if "samples" in r), None)
    unit = next((r["time_unit"] for r in tab.values() if r.get("time_unit")), None)
    doc.p(f"Model: {made.info.get('source', '?')}. Evaluation set: {ev} ({n or '?'} samples, each recipe on the "
          f"same samples, quantised with its own input scale). 'float' is the fp32 recipe on this machine "
          f"(tflite-runtime) on the same inputs. Latency is measured on the target"
          + (" (QEMU: instructions at the board's nominal clock, not a real core's time)" if unit == "instructions"
             else "") + ". How to read it: docs/recipes.md.")
    doc.table(HEADERS, [_cells(r) for r in tab.values()])
    why = not_measured(tab)
    if why:
        doc.h(2, "Not measured")
        doc.table(["recipe", "why"], why)
    doc.h(2, "Converter settings")
    doc.table(["recipe", "settings"], [[r["label"], _settings(r.get("settings"))] for r in tab.values()])
    notes = [[r["label"], f"{ref}: {text}"] for r in tab.values() for ref, text in (r.get("ref_notes") or {}).items()]
    if notes:
        doc.h(2, "References not available")
        doc.table(["recipe", "reference: why"], notes)
    doc.h(2, "Bench runs")
    doc.table(["recipe", "run directory (report.md, metrics.json, outputs)"],
              [[r["label"], r["run"]] for r in tab.values() if "run" in r])
    return doc


def not_measured(tab: dict[str, dict]) -> list[list[str]]:
    """[label, why] of the rows without a measurement; the link's address (a fresh port per run)
    left out of the text."""
    return [[r["label"], re.sub(r"socket://[^ ]+: |rfc2217://[^ ]+: ", "", r.get("cannot_run") or r.get("not_made", ""))]
            for r in tab.values() if r["status"] != "measured"]


def _settings(s) -> str:
    if not s:
        return "–"
    return "; ".join(f"{k}={v}" for k, v in s.items())


def write(out: Path, tcfg: TargetConfig, made: Made, ev: Path, rows: dict[str, dict]) -> None:
    tab = table(made, rows)
    n = len(load_arrays(ev, ValueError, "missing")["y"]) if ev else None
    write_json(out / "recipes.json", {"target": tcfg.name, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                      "model": made.info.get("source"), "eval": str(ev), "eval_samples": n,
                                      "converter": made.info.get("versions"), "recipes": tab})
    doc = render(tab, tcfg, made, ev)
    write_atomic(out / "recipes.md", doc.markdown().encode())
    doc.h(2, "Reliability: float vs each recipe")
    for r in tab.values():
        if r.get("reliability_recipe"):
            doc.img(plots.reliability_diagram(r["reliability_float"], r["reliability_recipe"],
                                              f"{r['label']} on {tcfg.name}", device_label=r["label"]), r["label"])
    write_atomic(out / "recipes.html", doc.html(f"recipes on {tcfg.name}").encode())
