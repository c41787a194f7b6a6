"""The top of a report — what a reader needs first, above the fold: the overall verdict (coloured),
one paragraph answering "does it drift, how much, does it matter", the baseline outcome, the
summary table linked to each model's section, the caveats, then a table of contents and the target
(its raw facts collapsed). Verdicts come from analysis.verdict (computed once, for the terminal too)."""

from __future__ import annotations

from ..analysis.figures import differing, exact_share, number, percent
from .document import Cell, Doc
from .labels import SUMMARY_EXACT_COLUMNS, label
from .memory import summary_cell, summary_header
from .prose import answer, caveats


def head(doc: Doc, ctx) -> None:
    s, t = ctx.summary, ctx.target
    doc.h(1, f"Bench report — {t.get('name', '?')} — {ctx.meta['run_id']}")
    doc.banner(s.overall, s.line)
    doc.p(answer(ctx))
    doc.p(_baseline_line(s.baseline))
    doc.h(2, "Summary")
    _summary_table(doc, ctx)
    notes = caveats(ctx)
    if notes:
        doc.h(2, "Caveats")
        doc.ul(notes + [f"What each figure means: {ctx.gloss('caveats')}."])
    doc.toc()


def _baseline_line(base) -> str:
    if base is None:
        return "Baseline: none given, so no regression check (`--baseline RUN_DIR` compares with an earlier run)."
    text = base.line[:1].upper() + base.line[1:] + "."  # "Baseline …: all 72 checks within tolerance."
    if base.passed is not False:
        return text
    more = len(base.failures) - 3
    return text + " Broken: " + "; ".join(base.failures[:3]) + (f"; {more} more in the regression table" if more > 0
                                                               else "") + "."


def _summary_table(doc: Doc, ctx) -> None:
    doc.table(*summary_rows(ctx), id="summary-table")


def summary_rows(ctx) -> tuple[list[str], list[list]]:
    """The summary table (headers, rows): one row per model, its name linking to its section (when the
    section's anchor is known); exactness with its counts. tools/readme_figures.py quotes it."""
    unit = ctx.target.get("time_unit")
    ticks = unit not in ("ns", None)
    rows = []
    for mv in ctx.summary.models:
        m = ctx.mets.get(mv.name) or {}
        fl = (m.get("tensors") or {}).get("outputs_0", {}).get("float", {})
        cls = m.get("classification", {})
        rows.append([Cell(mv.name, href=f"#{ctx.anchors[mv.name]}") if mv.name in ctx.anchors else mv.name,
                     _status(mv), m.get("samples"), (m.get("latency") or {}).get("p50_us")]
                    + ([(m.get("ticks") or {}).get("mean")] if ticks else [])
                    + _vs_tflm(m) + [fl.get("mae"), percent(cls.get("vs_float", {}).get("top1_agreement_pct")),
                                     summary_cell(ctx, mv.name)])
    return (["model", "verdict", "samples", "p50 µs"] + ([f"mean {unit}"] if ticks else [])
            + [h for _, h in SUMMARY_EXACT_COLUMNS] + ["MAE vs float", "top-1 agree vs float %",
               summary_header(ctx.target)], rows)


def _status(mv) -> Cell:
    """The model's verdict, and REGRESSION (red) when it broke a baseline tolerance."""
    if mv.regressions:
        return Cell(f"{mv.status}, REGRESSION", status="REGRESSION")
    return Cell(mv.status, status=mv.status)


def _vs_tflm(m: dict) -> list:
    """exact %, what differs (counts) and max LSB against the oracle — or why there is no oracle."""
    ex = (m.get("exactness") or {}).get("tflm")
    if ex is None:
        return ["unavailable" if "tflm" in m.get("unavailable_references", {}) else None, None, None]
    return [exact_share(ex), differing(ex), ex["max_lsb"]]


def target_section(doc: Doc, ctx, board_warnings) -> None:
    t = ctx.target
    doc.h(2, "Target")
    doc.p(f"{t.get('name')} ({t.get('kind')}): board {t.get('board')}, CPU {t.get('cpu')}, time unit "
          f"{t.get('time_unit')}" + (f", clock {number(t['clock_hz'] / 1e6)} MHz" if t.get("clock_hz") else "") + ".")
    if t.get("time_unit") == "instructions":
        doc.p("Emulated under QEMU with -icount: counts are deterministic instruction counts, not real cycles; "
              "µs assume one instruction per clock.")
    facts = t.get("facts", {})
    for warning in board_warnings(facts):
        doc.p(f"Warning: {warning}")
    if facts:
        doc.details(f"Target facts ({len(facts)}: build, link, protocol, process ids …)")
        doc.table(["fact", "value"], [[label(k), _fact(v)] for k, v in facts.items()])
        doc.end_details()



def _fact(v) -> str:
    """A target fact as the board gave it: identifiers (nonce, pid, boot id) are not quantities."""
    return ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
