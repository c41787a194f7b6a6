"""Lab regression: this run against a baseline run, with the config's tolerances → junit.xml.

The baseline is checked before anything runs (preflight): a finished run of the same models on the
same inputs and the same kind of target. Latencies in different time units are never compared."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from .compare import compare_runs
from .figures import count, differing, exact_share, percent
from ..errors import ConfigError, ResultsError
from ..results.files import read_json, write_text
from ..results.rundir import RunDir

if TYPE_CHECKING:  # a type only: the report layer above hands its document in
    from ..report.document import Doc

SKIPPED = None  # a check that cannot be made (latency in different units): neither ok nor broken


def _checks(r: dict, tol: dict, units: tuple[str, str]) -> list[tuple[str, bool | None, str]]:
    """Each tolerance: (name, ok — or SKIPPED, what was measured — with counts, never a rounded 100)."""
    ex = r["exactness"]
    worst = max(t["max_abs"] for t in r["tensors"].values())
    exact_ok = 100 * (ex["elements"] - ex["differing"]) >= tol["min_exact_pct"] * ex["elements"]
    lat = r["latency_change_pct"] or 0.0
    if units[0] != units[1]:
        latency = ("max_latency_increase_pct", SKIPPED, f"latency not compared: this run measures "
                   f"{units[0]}, the baseline {units[1]}")
    else:
        latency = ("max_latency_increase_pct", lat <= tol["max_latency_increase_pct"],
                   f"latency {lat:+.2f} % (limit {tol['max_latency_increase_pct']})")
    return [
        ("max_lsb", worst <= tol["max_lsb"], f"max |d| {worst} LSB vs the baseline (limit {tol['max_lsb']})"),
        ("min_exact_pct", exact_ok, f"exact {exact_share(ex)} % vs the baseline: {differing(ex, 'differ')} "
                                    f"(limit {tol['min_exact_pct']} %)"),
        ("max_swapped_pct", r["swapped_pct"] <= tol["max_swapped_pct"],
         f"swapped {count(r['swapped'])} of {count(r['samples'])} predictions ({percent(r['swapped_pct'])} %, "
         f"limit {tol['max_swapped_pct']} %)"),
        latency,
    ]


def _meta(baseline: Path) -> dict:
    """The baseline's run.json, or a one-line error saying why it cannot be one."""
    if not Path(baseline).is_dir():
        raise ResultsError(f"--baseline {baseline}: not a run directory (results/<target>/<run-id>)")
    meta = read_json(RunDir(Path(baseline)).file("run.json"))
    if not isinstance(meta, dict) or not isinstance(meta.get("models"), dict):
        raise ResultsError(f"--baseline {baseline}: run.json is damaged or not a bench run")
    if meta.get("status") != "complete":
        raise ResultsError(f"--baseline {baseline}: that run is {str(meta.get('status'))[:80]!r}, not complete; "
                           "finish it with --resume or choose another baseline")
    return meta


def _kind(meta: dict) -> str:
    return str((meta.get("target") or {}).get("kind") or (meta.get("target_config") or {}).get("kind"))


def preflight(baseline: Path, kind: str, models: dict[str, tuple[str, str]], allow_other_target: bool) -> None:
    """Before anything runs: `baseline` is a finished run of the same models (name → sha256, input source),
    on the same kind of target unless allow_other_target (then outputs are compared, not latencies)."""
    meta = _meta(baseline)
    if _kind(meta) != kind and not allow_other_target:
        raise ConfigError(f"--baseline {baseline}: a {_kind(meta)} run, this target is {kind}; their latencies are "
                          "not comparable — pass --allow-other-target to compare outputs only")
    for name, (sha, source) in models.items():
        b = meta["models"].get(name)
        if not isinstance(b, dict):
            raise ConfigError(f"--baseline {baseline}: has no model {name!r} (it has "
                              f"{', '.join(sorted(meta['models']))[:200] or 'none'})")
        if b.get("sha256") != sha:
            raise ConfigError(f"--baseline {baseline}: model {name!r} is another file (sha256 "
                              f"{str(b.get('sha256'))[:12]}… there, {sha[:12]}… here)")
        if b.get("input_source") != source:
            raise ConfigError(f"--baseline {baseline}: model {name!r} ran on other inputs "
                              f"({b.get('input_source')} there, {source} here)")
        if not RunDir(Path(baseline)).file("outputs", f"{name}.npz").is_file():
            raise ResultsError(f"--baseline {baseline}: outputs/{name}.npz is missing")


def failure_message(failures: list[str], baseline: str, junit: Path) -> str:
    """Every broken tolerance, one per line (the exit code 1 message)."""
    return (f"{len(failures)} tolerance(s) broken against {baseline} (see {junit}):\n"
            + "\n".join(f"  {f}" for f in failures))


def _verdict_case(model: str, verdict: str) -> str:
    """The run's own verdict (vs the TFLM oracle) in junit.xml: informational, never a failure."""
    return (f"  <testcase classname={quoteattr(model)} name=\"verdict\"><system-out>{escape(verdict)}"
            "</system-out></testcase>")


def check_baseline(rd: RunDir, baseline: Path, doc: Doc) -> list[str]:
    """Add a regression table to `doc`, write junit.xml; return every broken tolerance."""
    meta = read_json(rd.file("run.json"))
    tol = meta["config"]["tolerances"]
    mets = read_json(rd.file("metrics.json")) if rd.file("metrics.json").exists() else {}
    units = (str(meta.get("target", {}).get("time_unit")), str(_meta(baseline).get("target", {}).get("time_unit")))
    results = compare_runs(rd.path, baseline)
    cases, rows, failures = [], [], []
    for model, r in results.items():
        if mets.get(model, {}).get("verdict"):
            cases.append(_verdict_case(model, mets[model]["verdict"]))
        for check, ok, text in _checks(r, tol, units):
            rows.append([model, check, "skipped" if ok is SKIPPED else "ok" if ok else "FAIL", text])
            body = (f"<skipped message={quoteattr(text)}/>" if ok is SKIPPED else "" if ok else
                    f"<failure message={quoteattr(text)}>{escape(text)}</failure>")
            cases.append(f'  <testcase classname={quoteattr(model)} name="{check}">{body}</testcase>')
            if ok is not SKIPPED and not ok:
                failures.append(f"{model}: {text}")
    doc.h(2, f"Regression against {baseline}")
    doc.table(["model", "check", "result", "detail"], rows)
    skipped = sum(1 for r in rows if r[2] == "skipped")
    xml = (f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="harness-regression" '
           f'tests="{len(cases)}" failures="{len(failures)}" skipped="{skipped}">\n' + "\n".join(cases) + "\n</testsuite>\n")
    write_text(rd.file("junit.xml"), xml)
    return failures
