"""report.md and report.html (plots inline) from a run directory; junit.xml with a baseline.

Both lead with the answer — overall verdict, one paragraph, baseline outcome, summary table
(header.py) — then the target and one section per model, in the same order."""

from __future__ import annotations

from pathlib import Path

from ..analysis.verdict import summarise
from ..errors import RegressionFailed
from ..results.files import read_json, write_text
from ..results.rundir import RunDir
from . import glossary
from .document import Doc
from .header import head, target_section
from .labels import ANCHORS
from .model_section import Ctx, model_section

RUN_GLOSSARY = tuple(a for a in ANCHORS if a != "sweep")  # the sweep's entry is in sweep.html


def build(rd: RunDir, with_plots: bool = True, baseline: str | None = None,
          regression: Doc | None = None) -> Doc:
    """The whole report; `regression` is the baseline table check_baseline wrote (placed after the target)."""
    ctx = context(rd, with_plots, baseline)
    mets = ctx.mets
    doc = Doc()
    for anchor in RUN_GLOSSARY:  # the glossary's anchors are the links' targets: no heading may take them
        doc.anchor(anchor)
    ctx.anchors.update({name: doc.anchor(f"Model {name}") for name in mets})
    head(doc, ctx)
    target_section(doc, ctx, _board_warnings)
    if regression is not None:
        doc.blocks += regression.blocks
    for name in mets:
        model_section(doc, ctx, name)
    glossary.section(doc, RUN_GLOSSARY)
    return doc


def context(rd: RunDir, with_plots: bool = True, baseline: str | None = None) -> Ctx:
    """What every part of the report reads: run.json, metrics.json and the run's summary (verdicts)."""
    return Ctx(rd, read_json(rd.file("run.json")), read_json(rd.file("metrics.json")),
               summarise(rd.path, baseline), with_plots)


def _board_warnings(facts: dict) -> list[str]:
    """Linux boards: timings are only comparable at a fixed clock and without throttling."""
    out = []
    gov = facts.get("governor")
    if gov and gov != "performance":
        out.append(f"cpufreq governor is {gov!r}, not 'performance': latency varies with the clock "
                   "(echo performance | sudo tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor)")
    thr = str(facts.get("throttled") or "").strip()
    if thr and thr not in ("0", "0x0", "throttled=0x0"):
        out.append(f"the board reports throttling ({thr}): check power supply and cooling")
    if facts.get("emulated"):
        out.append(f"the board is emulated ({facts['emulated']}): latencies are not those of the real board")
    return out


def write_all(rd: RunDir, baseline: str | None = None) -> Path:
    """Write report.md and report.html (and junit.xml against a baseline); returns report.html.
    The baseline is checked first, so that the report's header can give its outcome."""
    failures: list[str] = []
    regression = None
    if baseline:
        from ..analysis.regression import check_baseline

        regression = Doc()
        failures = check_baseline(rd, Path(baseline), regression)
    doc = build(rd, baseline=baseline, regression=regression)
    title = doc.blocks[0][2]
    write_text(rd.file("report.md"), doc.markdown())
    write_text(rd.file("report.html"), doc.html(title))
    if failures:
        from ..analysis.regression import failure_message

        raise RegressionFailed(failure_message(failures, baseline, rd.file("junit.xml")))
    return rd.file("report.html")
