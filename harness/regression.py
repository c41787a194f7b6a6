"""Lab regression: this run against a baseline run, with the config's tolerances → junit.xml."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from .compare import compare_runs
from .doc import Doc
from .results import RunDir, read_json, write_atomic


def _checks(r: dict, tol: dict) -> list[tuple[str, bool, str]]:
    worst = max(t["max_abs"] for t in r["tensors"].values())
    exact = min(t["exact_pct"] for t in r["tensors"].values())
    lat = r["latency_change_pct"] or 0.0
    return [
        ("max_lsb", worst <= tol["max_lsb"], f"max |d| {worst} LSB (limit {tol['max_lsb']})"),
        ("min_exact_pct", exact >= tol["min_exact_pct"], f"exact {exact:.3f} % (limit {tol['min_exact_pct']})"),
        ("max_swapped_pct", r["swapped_pct"] <= tol["max_swapped_pct"],
         f"swapped {r['swapped_pct']:.3f} % (limit {tol['max_swapped_pct']})"),
        ("max_latency_increase_pct", lat <= tol["max_latency_increase_pct"],
         f"latency {lat:+.2f} % (limit {tol['max_latency_increase_pct']})"),
    ]


def check_baseline(rd: RunDir, baseline: Path, doc: Doc) -> list[str]:
    """Add a regression table to `doc`, write junit.xml; return the broken tolerances."""
    tol = read_json(rd.file("run.json"))["config"]["tolerances"]
    results = compare_runs(rd.path, baseline)
    cases, rows, failures = [], [], []
    for model, r in results.items():
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
