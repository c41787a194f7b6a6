"""One model's section of report.md / report.html: verdict, memory, latency, profile, drift tables,
classification, calibration, per-layer drift, sanity — each with human labels and a glossary link."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..analysis.figures import differing, exact_share, number, percent
from ..results.files import read_npz
from ..results.rundir import RunDir
from . import calibration_section, layers_section, plots
from .attribution import report_section as attribution_section
from .document import Doc
from .eembc import section as eembc_section
from .labels import (FLOAT_COLUMNS, LATENCY_COLUMNS, LSB_COLUMNS, REFERENCES, TOP1_COLUMNS, glossary_link, label,
                     size, tensor)
from .memory import memory_rows
from .prose import model_caveat


@dataclass
class Ctx:
    """What every section reads: the run directory, its run.json and metrics.json, the summary."""

    rd: RunDir
    meta: dict
    mets: dict
    summary: object  # analysis.verdict.Summary
    with_plots: bool = True
    anchors: dict[str, str] = field(default_factory=dict)  # model → its section's anchor

    @property
    def target(self) -> dict:
        return self.meta.get("target", {})

    def gloss(self, anchor: str) -> str:
        return glossary_link(anchor)


def model_section(doc: Doc, ctx: Ctx, name: str) -> None:
    mm, m, t = ctx.meta["models"][name], ctx.mets[name], ctx.target
    doc.h(2, f"Model {name}", anchor=ctx.anchors.get(name))
    if m.get("verdict"):
        doc.p(f"Verdict: {m['verdict']}.")
    caveat = model_caveat(ctx, name)
    if caveat:
        doc.p(caveat)
    twin = (mm.get("float") or {}).get("path", "none")
    doc.p(f"{mm['path']} — sha256 {mm['sha256'][:16]}…, {size(mm['size'])}; ops: {', '.join(sorted(set(mm['ops'])))}; "
          f"inputs: {mm['input_source']}; float twin: {twin}")
    for note in mm["load"].get("notes", []):
        doc.p(f"Note: {note}")
    for ref, why in m.get("unavailable_references", {}).items():
        doc.p(f"Reference {ref} unavailable: {why}.")
    _memory(doc, ctx, name)
    _latency(doc, ctx, name, m)
    eembc_section(doc, ctx.rd, name, mm)
    if m.get("profile"):
        unit = t.get("time_unit", "ticks")
        doc.h(3, f"Per-op profile (mean {unit} per inference)")
        doc.table(["op", "type", unit, "share %", "µs"],
                  [[r["index"], r["op"], r["ticks"], r["share_pct"], r["us"]] for r in m["profile"]])
    _drift_tables(doc, ctx, name, m)
    if "classification" in m:
        doc.h(3, "Classification")
        doc.p(f"Top-1 predictions against each reference ({ctx.gloss('classification')}).")
        _classification(doc, m["classification"])
    if "calibration" in m:
        calibration_section.section(doc, ctx, name, m["calibration"])
    if m.get("per_layer"):
        layers_section.section(doc, ctx, name, m["per_layer"])
    elif m.get("per_layer_unavailable"):
        doc.h(3, "Per-layer drift")
        doc.p(f"Unavailable: {m['per_layer_unavailable']}.")
    attribution_section(doc, ctx.rd, name)
    doc.h(3, "Sanity")
    doc.p(f"Saturation, dead outputs and softmax sums ({ctx.gloss('sanity')}).")
    doc.table(["tensor", "check", "value"],
              [[tensor(k), label(c), v] for k, tm in m["tensors"].items() for c, v in tm["sanity"].items()])
    for note in m.get("explanations", []):
        doc.p(f"Why: {note}.")


def _memory(doc: Doc, ctx: Ctx, name: str) -> None:
    doc.h(3, "Memory")
    doc.table(["figure", "value"], memory_rows(ctx, name))


def _latency(doc: Doc, ctx: Ctx, name: str, m: dict) -> None:
    lat = m["latency"]
    doc.h(3, "Latency (on the device, warm-up excluded)")
    doc.p(f"Per inference, around invoke() only ({ctx.gloss('latency')}).")
    figures = {**lat, "load_time_s": m["load_time_s"]}
    doc.table([h for _, h in LATENCY_COLUMNS], [[figures.get(k) for k, _ in LATENCY_COLUMNS]])
    if "ticks" in m:
        tk = m["ticks"]
        doc.p(f"Per inference: mean {number(float(tk['mean']))} {tk['unit']} "
              f"(min {number(tk['min'])}, max {number(tk['max'])}).")
    if not ctx.with_plots:
        return
    times = read_npz(ctx.rd.file("outputs", f"{name}.npz"))["times_ns"] / 1e3
    if len(times) and times.min() == times.max():
        doc.p(f"Every one of the {number(len(times))} inferences took exactly {number(float(times[0]))} µs "
              "(deterministic), so no distribution is drawn.")
    elif len(times):
        doc.img(plots.latency_distribution(times, f"{name}: latency"), f"{name} latency distribution")


def _drift_tables(doc: Doc, ctx: Ctx, name: str, m: dict) -> None:
    doc.h(3, "LSB drift (d = q_device − q_ref)")
    doc.p(f"Each output element against each int8 reference ({ctx.gloss('lsb-drift')}).")
    rows = [[tensor(k), REFERENCES.get(ref, ref), exact_share(v), differing(v), v["mean_abs"], v["max_abs"],
             percent(v["samples_differing_pct"])]
            for k, tm in m["tensors"].items() for ref, v in tm["vs"].items()]
    doc.table(["tensor", "reference"] + [h for _, h in LSB_COLUMNS], rows)  # rows in LSB_COLUMNS' order
    if ctx.with_plots:
        _lsb_plot(doc, name, m)
    rows = [[tensor(k), who, *(f.get(c) for c, _ in FLOAT_COLUMNS)]
            for k, tm in m["tensors"].items()
            for who, f in (("device", tm.get("float")), ("TFLM oracle", tm.get("float_oracle"))) if f]
    if rows:
        doc.h(3, "Float drift vs the float twin (dequantised)")
        doc.p(f"The int8 outputs dequantised against the float model on the same inputs ({ctx.gloss('float-drift')}); "
              "the TFLM row is the quantisation error itself, the device row adds what the board does.")
        doc.table(["tensor", "int8 from"] + [h for _, h in FLOAT_COLUMNS], rows)


def _lsb_plot(doc: Doc, name: str, m: dict) -> None:
    """The histogram of d, unless every d is 0 (a single bar says nothing the table does not)."""
    vs = m["tensors"]["outputs_0"]["vs"]
    hists = {REFERENCES.get(ref, ref): v["hist"] for ref, v in vs.items()}
    if not hists:
        return
    if all(set(h) <= {"0"} for h in hists.values()):
        doc.p("No LSB histogram: output 0 is bit-exact with every reference (every d is 0).")
        return
    doc.img(plots.lsb_histogram(hists, f"{name}: LSB drift, output 0"), f"{name} LSB drift histogram")


def _classification(doc: Doc, c: dict) -> None:
    """Top-1 agreement per reference (one row each), then the accuracies when labels exist."""
    refs = [(k[3:], v) for k, v in c.items() if k.startswith("vs_") and isinstance(v, dict)]
    doc.table(["top-1 against"] + [h for _, h in TOP1_COLUMNS],  # rows in TOP1_COLUMNS' order
              [[REFERENCES.get(ref, ref), percent(v.get("top1_agreement_pct")), v.get("swapped"),
                percent(v.get("swapped_pct"))] for ref, v in refs])
    acc = [[label(k), percent(v)] for k, v in c.items() if not isinstance(v, dict)]
    if acc:
        doc.table(["accuracy on the labels", "value"], acc)
