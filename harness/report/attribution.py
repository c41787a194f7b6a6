"""The words and tables of the attribution: one section per model in report.md/html, and the
text `harness explain` prints. Figures come from layers/<model>.attribution.json."""

from __future__ import annotations

from ..analysis.attribution.variants import describe, for_op
from .document import Doc

EXACT = "TFLM arithmetic reproduced exactly"


def _pct(v: float) -> str:
    """A share that is not exact never prints as 100 (or 0)."""
    if v >= 100.0:
        return "100"
    if v <= 0.0:
        return "0"
    s = f"{v:.2f}"
    return "99.99" if s == "100.00" else ("0.01" if s == "0.00" else s)


def verdict(r: dict) -> str:
    """One cell: what the replay says about this op."""
    v = r["verdict"]
    if v == "tflm":
        return EXACT
    if v == "not-replayed":
        return f"not replayed: {r['why']}"
    if v == "attributed":
        mine, theirs = _unique(k[0] for k in r["exact"]), _unique(k[1] for k in r["exact"] if k[1])
        if theirs:
            return (f"reproduced exactly: the unreadable input rebuilt by replaying op {r['via']['index']} "
                    f"{r['via']['op']} with {_names(theirs)}, then this op with {_names(mine)}")
        return f"reproduced exactly by {_names(mine)}"
    via = f" (input from op {r['via']['index']} replayed with {r['best_via']})" if r.get("best_via") else ""
    return f"no variant reproduces it; closest {r['best']}{via} at {_pct(r['best_match_pct'])} %"


def _unique(names) -> list[str]:
    return list(dict.fromkeys(names))


def _names(names: list[str]) -> str:
    """'a', or 'a (or b, c: equal on these samples)' when the samples cannot tell them apart."""
    if len(names) == 1:
        return names[0]
    more = ", ".join(names[1:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return f"{names[0]} (or {more}: equal on these samples)"


def sentence(r: dict, run_dir: str, model: str) -> str:
    """The explanation of an op whose device tensor is not TFLM's, as the issue threads ask."""
    head = (f"op {r['index']} {r['op']} differs from TFLM arithmetic on {_pct(100 - r['tflm_match_pct'])} % "
            f"of its elements (max |Δ| {r['tflm_max_abs']:g} LSB, TFLM replayed on the device's own inputs over "
            f"{r['samples']} samples)")
    if r["verdict"] == "unexplained":
        return (f"{head}; no variant reproduces it (closest: {r['best']}, {_pct(r['best_match_pct'])} % of "
                f"elements, max |Δ| {r['best_max_abs']:g}): a bug or an unknown arithmetic. Replay it with "
                f"`harness explain {run_dir} --model {model} --op {r['index']}`")
    via = r.get("via")
    if via and r.get("best_via") and r["best_via"] != "tflm":
        own = "TFLM arithmetic" if r["best"] == "tflm" else f"{r['best']} ({describe(r['op'], r['best'])})"
        return (f"{head}; the device's output is reproduced exactly by {own} on an input rebuilt by replaying "
                f"op {via['index']} {via['op']} (overwritten in place on the target, so not readable) with "
                f"{r['best_via']}: {describe(via['op'], r['best_via'])}; TFLM: {_what(via['op'])} → cause: "
                f"op {via['index']} {via['op']}'s kernel arithmetic, not the board")
    return (f"{head}; the device's output is reproduced exactly by {r['best']}: {describe(r['op'], r['best'])}; "
            f"TFLM: {_what(r['op'])} → cause: kernel arithmetic, not the board")


def _what(op_name: str) -> str:
    return for_op(op_name)[0].what


def _label(v: dict) -> str:
    return v["name"] + (f" (input: {v['via']})" if v.get("via") else "")


def _variant_rows(r: dict) -> list[list]:
    rows = [["tflm" + (" (input: tflm)" if r.get("via") else ""), _pct(r["tflm_match_pct"]), r["tflm_max_abs"]]]
    return rows + [[_label(v), _pct(v["match_pct"]), v["max_abs"]] for v in r.get("variants", [])
                   if (v["name"], v.get("via")) not in (("tflm", None), ("tflm", "tflm"))]


def build(doc: Doc, result: dict, run_dir: str, level: int = 3) -> None:
    """The per-op table, then one paragraph and variant table per op that is not TFLM's."""
    ops, model = result["ops"], result["model"]
    doc.h(level, f"Why it drifts: each op replayed on the host ({result['samples']} samples)")
    replayed = [r for r in ops if r["verdict"] != "not-replayed"]
    first = next((r for r in replayed if r["verdict"] != "tflm"), None)
    if first is not None:
        doc.p(f"First op whose arithmetic is not TFLM's: op {first['index']} {first['op']}, {verdict(first)}.")
    elif replayed:
        doc.p(f"{EXACT} on every replayed op ({len(replayed)} of {len(ops)}), from the device's own input "
              "tensors: the target computes what TFLM computes.")
    doc.table(["op", "type", "TFLM replay match %", "verdict"],
              [[r["index"], r["op"], _pct(r["tflm_match_pct"]) if "tflm_match_pct" in r else None, verdict(r)]
               for r in ops])
    for r in ops:
        if r["verdict"] in ("attributed", "unexplained"):
            doc.p(sentence(r, run_dir, model) + ".")
            doc.table(["variant tried", "match %", "max |Δ| LSB"], _variant_rows(r))


def report_section(doc: Doc, rd, name: str) -> None:
    """report.py's hook: the attribution of a model when the run kept per-layer tensors."""
    from ..analysis.attribution.store import read

    result = read(rd, name)
    if result is not None:
        build(doc, result, str(rd.path))
