"""Lab regression: this run against a baseline run, with the config's tolerances → junit.xml."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from .compare import compare_runs
from .doc import Doc
from .figures import count, differing, exact_share, percent
from .results import RunDir, read_json, write_atomic


def _checks(r: dict, tol: dict) -> list[tuple[str, bool, str]]:
    """Each tolerance: (name, ok, what was measured — with counts, never a rounded 100)."""
    ex = r["exactness"]
    worst = max(t["max_abs"] for t in r["tensors"].values())
    exact_ok = 100 * (ex["elements"] - ex["differing"]) >= tol["min_exact_pct"] * ex["elements"]
    lat = r["latency_change_pct"] or 0.0
    return [
        ("max_lsb", worst <= tol["max_lsb"], f"max |d| {worst} LSB vs the baseline (limit {tol['max_lsb']})"),
        ("min_exact_pct", exact_ok, f"exact {exact_share(ex)} % vs the baseline: {differing(ex, 'differ')} "
                                    f"(limit {tol['min_exact_pct']} %)"),
        ("max_swapped_pct", r["swapped_pct"] <= tol["max_swapped_pct"],
         f"swapped {count(r['swapped'])} of {count(r['samples'])} predictions ({percent(r['swapped_pct'])} %, "
         f"limit {tol['max_swapped_pct']} %)"),
        ("max_latency_increase_pct", lat <= tol["max_latency_increase_pct"],
         f"latency {lat:+.2f} % (limit {tol['max_latency_increase_pct']} %)"),
    ]


def _verdict_case(model: str, verdict: str) -> str:
    """The run's own verdict (vs the TFLM oracle) in junit.xml: informational, never a failure."""
    return (f"  <testcase classname={quoteattr(model)} name=\"verdict\"><system-out>{escape(verdict)}"
            "</system-out></testcase>")


def check_baseline(rd: RunDir, baseline: Path, doc: Doc) -> list[str]:
    """Add a regression table to `doc`, write junit.xml; return the broken tolerances."""
    tol = read_json(rd.file("run.json"))["config"]["tolerances"]
    mets = read_json(rd.file("metrics.json")) if rd.file("metrics.json").exists() else {}
    results = compare_runs(rd.path, baseline)
    cases, rows, failures = [], [], []
    for model, r in results.items():
        if mets.get(model, {}).get("verdict"):
            cases.append(_verdict_case(model, mets[model]["verdict"]))
        for check, ok, text in _checks(r, tol):
            rows.append([model, check, "ok" if ok else "FAIL", text])
            body = "" if ok else f"<failure message={quoteattr(text)}>{escape(text)}</failure>"
            cases.append(f'  <testcase classname={quoteattr(model)} name="{check}">{body}</testcase>')
            if not ok:
                failures.append(f"{model}: {text}")
    doc.h(2, f"Regression against {baseline}")
    doc.table(["model", "check", "result", "detail"], rows)
    xml = (f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="harness-regression" '
           f'tests="{len(cases)}" failures="{len(failures)}">\n' + "\n".join(cases) + "\n</testsuite>\n")
    write_atomic(rd.file("junit.xml"), xml.encode())
    return failures
