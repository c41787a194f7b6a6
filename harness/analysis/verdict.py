"""The answer at a glance, computed once: per model a verdict, one overall line, the baseline outcome
and the key figures — for the terminal summary, `harness bench --json` and the report's header.

API (everything else here is private):

    s = summarise(run_dir)          # reads run.json, metrics.json and (with a baseline) junit.xml
    s.overall                       # "PASS" | "DRIFT" | "UNCHECKED" | "FAILED" | "REGRESSION"
    s.line                          # "PASS: bit-exact on 18/18 models" (what to print first)
    s.models                        # [ModelVerdict] in run order: .status, .line, .exactness, .memory …
    s.baseline                      # BaselineOutcome | None
    s.as_json()                     # a JSON-ready dict of all of it (`harness bench --json`)

Model statuses: BIT-EXACT (no bit of any output differs from the TFLM oracle), DRIFT (some do:
`differing`, `max_lsb`, and top-1 changes vs the float twin when there is one), UNAVAILABLE (the
oracle could not run the model: `unavailable` says why), FAILED (planned but not measured: the run
failed first). The overall status is the worst one present, in the order PASS < UNCHECKED (no drift
seen but some model has no oracle) < DRIFT < FAILED < REGRESSION (a baseline tolerance broken).
Drift alone never fails a run (exit 0); only a regression does (exit 1).

Figures are raw numbers (counts, µs, bytes) for machines; `line` texts follow analysis/figures.py
(a share that is not exact never prints as 100 or 0). Memory (`ModelVerdict.memory`, dict, keys
present only when measured): model_bytes, arena_used_bytes and arena_bytes (MCU, from the LOAD
reply), peak_rss_bytes (host/SSH: the process that ran the model), firmware_text_bytes,
firmware_data_bytes, firmware_bss_bytes (MCU, from the firmware ELF). Where they are recorded:
docs/results.md.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ResultsError
from ..results.files import read_json
from ..results.rundir import RunDir
from .figures import count, differing, exactness_verdict, share

ORACLE = "tflm"
ORDER = ("PASS", "UNCHECKED", "DRIFT", "FAILED", "REGRESSION")  # overall: the worst present wins
MEMORY_KEYS = ("model_bytes", "arena_used_bytes", "arena_bytes", "peak_rss_bytes",
               "firmware_text_bytes", "firmware_data_bytes", "firmware_bss_bytes")


@dataclass(frozen=True)
class ModelVerdict:
    """One model's answer: status, one line, and the raw numbers behind it."""

    name: str
    status: str  # BIT-EXACT | DRIFT | UNAVAILABLE | FAILED
    line: str  # one sentence with counts: what a reader acts on
    exactness: dict | None = None  # metrics.exactness vs the oracle: elements, differing, samples, …, max_lsb
    float_swaps: dict | None = None  # {"swapped", "samples", "swapped_pct"} vs the float twin
    latency_us: dict = field(default_factory=dict)  # mean, p50, std (µs on the device)
    ticks: dict | None = None  # {"unit", "mean"}: instructions (QEMU) or cycles (MCU)
    memory: dict = field(default_factory=dict)
    unavailable: dict = field(default_factory=dict)  # reference → why
    regressions: tuple[str, ...] = ()  # broken baseline tolerances of this model


@dataclass(frozen=True)
class BaselineOutcome:
    """The regression check against --baseline: counts of checks and every broken tolerance."""

    path: str
    passed: bool | None  # None: not checked (the run stopped before its report)
    checks: int
    failed: int
    skipped: int
    failures: tuple[str, ...] = ()
    junit: str = ""

    @property
    def line(self) -> str:
        if self.passed is None:
            return f"baseline {self.path}: not checked (the run stopped before its report)"
        if self.passed:
            return (f"baseline {self.path}: all {self.checks - self.skipped} checks within tolerance"
                    + (f" ({self.skipped} skipped)" if self.skipped else ""))
        return f"baseline {self.path}: {self.failed} of {self.checks} checks broken (see {self.junit})"


@dataclass(frozen=True)
class Summary:
    run_dir: str
    target: str
    status: str  # run.json status: complete, running, failed: …
    overall: str
    line: str
    models: tuple[ModelVerdict, ...]
    baseline: BaselineOutcome | None
    reports: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """Everything, as plain JSON types (tuples → lists)."""
        return dataclasses.asdict(self) | {"baseline": None if self.baseline is None else
                                           dataclasses.asdict(self.baseline) | {"line": self.baseline.line}}


def summarise(run_dir: Path | str, baseline: str | None = None) -> Summary:
    """The summary of a run directory as it is on disk (a failed run summarises what it measured);
    `baseline` overrides the bench's own (`harness report RUN --baseline B` checks another one)."""
    rd = RunDir(Path(run_dir))
    meta = read_json(rd.file("run.json"))
    if not isinstance(meta, dict):
        raise ResultsError(f"{rd.file('run.json')}: damaged (not a JSON object)")
    mets = read_json(rd.file("metrics.json")) if rd.file("metrics.json").is_file() else {}
    base = _baseline(rd, baseline or (meta.get("request") or {}).get("baseline"))
    broken = _by_model(base)
    names = [j.get("name") for j in (meta.get("plan") or {}).get("jobs", [])] or list(meta.get("models") or {})
    target = meta.get("target") or {}
    models = tuple(_model(n, mets.get(n), (meta.get("models") or {}).get(n), target, broken.get(n, ()))
                   for n in names)
    overall, line = _overall(models, base, str(meta.get("status")))
    reports = tuple(str(rd.file(f)) for f in ("report.html", "report.md") if rd.file(f).is_file())
    return Summary(str(rd.path), str(target.get("name") or (meta.get("target_config") or {}).get("name")),
                   str(meta.get("status")), overall, line, models, base, reports)


def _model(name: str, m: dict | None, mm: dict | None, target: dict, broken: tuple[str, ...]) -> ModelVerdict:
    memory = memory_of(mm or {}, target)
    if not m:
        return ModelVerdict(name, "FAILED", "not measured: the run stopped before this model was analysed",
                            memory=memory, regressions=broken)
    lat = m.get("latency") or {}
    common = dict(latency_us={k: lat.get(f"{k}_us") for k in ("mean", "p50", "std") if f"{k}_us" in lat},
                  ticks={"unit": m["ticks"]["unit"], "mean": m["ticks"]["mean"]} if m.get("ticks") else None,
                  memory=memory, unavailable=dict(m.get("unavailable_references") or {}), regressions=broken,
                  float_swaps=_swaps(m, (mm or {}).get("input_source", "")))
    ex = (m.get("exactness") or {}).get(ORACLE)
    if ex is None:
        why = common["unavailable"].get(ORACLE, "no TFLM reference in this run's config")
        return ModelVerdict(name, "UNAVAILABLE", f"no exactness verdict: the TFLM oracle is unavailable ({why})",
                            **common)
    status = "DRIFT" if ex.get("differing") else "BIT-EXACT"
    line = exactness_verdict(ex, "TFLM")
    if status == "DRIFT":
        line = f"{share(ex['differing'], ex['elements'])} % of outputs differ from TFLM: {differing(ex)}"
    if common["float_swaps"]:
        s = common["float_swaps"]
        line += (f"; top-1 vs float twin: {count(s['swapped'])} of {count(s['samples'])} changed"
                 + (" (random inputs)" if s["random_inputs"] else ""))
    return ModelVerdict(name, status, line, exactness=ex, **common)


def _swaps(m: dict, source: str) -> dict | None:
    """Top-1 changes vs the float twin; on random inputs (far from any training data, where scores are
    close) they say little about accuracy — the line says so."""
    vs = (m.get("classification") or {}).get("vs_float")
    if not vs:
        return None
    n = int(m.get("samples") or 0)
    return {"swapped": int(vs["swapped"]), "samples": n, "swapped_pct": vs["swapped_pct"],
            "random_inputs": str(source).startswith("random")}


def memory_of(mm: dict, target: dict) -> dict:
    """The memory figures of one model: run.json models.<name>.memory plus the target's firmware sizes."""
    got = {**((target or {}).get("memory") or {}), **(mm.get("memory") or {})}
    if "model_bytes" not in got and isinstance(mm.get("size"), int):
        got["model_bytes"] = mm["size"]
    return {k: got[k] for k in MEMORY_KEYS if isinstance(got.get(k), int)}


def _overall(models: tuple[ModelVerdict, ...], base: BaselineOutcome | None, status: str) -> tuple[str, str]:
    n = len(models)
    by = {s: [m for m in models if m.status == s] for s in ("BIT-EXACT", "DRIFT", "UNAVAILABLE", "FAILED")}
    exact = f"bit-exact on {len(by['BIT-EXACT'])}/{n} models"
    if base is not None and base.passed is False:
        hit = sum(1 for m in models if m.regressions)
        return "REGRESSION", (f"REGRESSION: {base.failed} tolerance(s) broken on {hit}/{n} models vs "
                              f"{base.path}; {exact}")
    if by["FAILED"] or status.startswith("failed"):
        return "FAILED", f"FAILED: {status}; {n - len(by['FAILED'])}/{n} models measured"
    if by["DRIFT"]:
        worst = max(m.exactness.get("max_lsb", 0) for m in by["DRIFT"])
        return "DRIFT", (f"DRIFT: {len(by['DRIFT'])}/{n} models differ from TFLM"
                         + (f" (max {worst} LSB)" if worst else "") + f"; {exact}")
    if by["UNAVAILABLE"]:
        return "UNCHECKED", f"UNCHECKED: {exact}; {len(by['UNAVAILABLE'])} without the TFLM oracle"
    return "PASS", f"PASS: {exact}"


def _baseline(rd: RunDir, path: str | None) -> BaselineOutcome | None:
    """The outcome of the baseline check, read back from the junit.xml it wrote (regression.py)."""
    if not path:
        return None
    junit = rd.file("junit.xml")
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return BaselineOutcome(str(path), None, 0, 0, 0, (), str(junit))
    cases = [c for c in root.iter("testcase") if c.get("name") != "verdict"]
    fails = tuple(f"{c.get('classname')}: {c.find('failure').get('message')}" for c in cases
                  if c.find("failure") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    return BaselineOutcome(str(path), not fails, len(cases), len(fails), skipped, fails, str(junit))


def _by_model(base: BaselineOutcome | None) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for f in base.failures if base else ():
        model, _, text = f.partition(": ")
        out[model] = out.get(model, ()) + (text,)
    return out
