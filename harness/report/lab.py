"""The lab report of one `harness lab` fan-out: per board, every attempt, and across boards.

Per board: verdicts, latency and drift vs the TFLM oracle (from each run's metrics.json). Every
attempt, failed ones too, with the inferences it had measured (its batches stay on disk). Across
boards: which boards computed identical bytes and the p50 latency spread (lab_compare).
"""

from __future__ import annotations

from pathlib import Path

from ..analysis.compare_many import compare_many
from ..analysis.figures import number
from ..results.files import read_json, write_atomic
from ..results.rundir import RunDir
from .compare import pct, render_many as render_across
from .document import Doc


def measured(run_dir: str | None) -> int:
    """Inferences whose batches a run has on disk (journal lines with their parts present)."""
    if not run_dir or not Path(run_dir).exists():
        return 0
    rd = RunDir(Path(run_dir))
    models = {e.get("model") for e in rd.events() if e.get("event") == "batch"}
    return sum(rd.done_batches(m).rows() for m in models)


def _board_rows(place: str, run_dir: Path) -> list[list]:
    meta = read_json(run_dir / "run.json")
    mets = read_json(run_dir / "metrics.json")
    t = meta.get("target", {})
    facts = t.get("facts", {})
    unit = t.get("time_unit")
    rows = []
    for name, m in mets.items():
        vs = m["tensors"]["outputs_0"]["vs"].get("tflm", {})
        ticks = m.get("ticks", {}).get("mean")
        rows.append([place, facts.get("tags", {}).get("board", t.get("board")), t.get("cpu"), name, m["samples"],
                     pct(vs.get("exact_pct")), vs.get("max_abs"), m["latency"].get("p50_us"),
                     f"{number(ticks)} {unit}" if ticks is not None else "–",
                     "yes" if facts.get("flashed") else "no", m.get("verdict", "")])
    return rows


def write(rd: RunDir, meta: dict) -> Path:
    """lab-report.md and lab-report.html in the lab folder; the path of the .md."""
    doc = Doc()
    req = meta["request"]
    doc.h(1, f"Lab report — {meta['lab_id']}")
    doc.p(f"labgrid coordinator {meta['coordinator']}; places matching {' '.join(req['places'])!r}: "
          f"{', '.join(meta['matched'])}; {meta['slots']} board(s); config {req['config']}; status {meta['status']}.")
    done = sorted((a for a in meta["attempts"] if a.get("status") == "complete" and a.get("run_dir")),
                  key=lambda a: a["place"])
    rows = [r for a in done for r in _board_rows(a["place"], Path(a["run_dir"]))]
    doc.h(2, "Per board")
    doc.table(["place", "board", "CPU", "model", "samples", "exact vs TFLM %", "max |Δ| LSB", "p50 µs",
               "mean device time", "flashed", "verdict"], rows)
    doc.h(2, "Attempts")
    doc.table(["place", "status", "seconds", "inferences measured", "error", "run directory"],
              [[a.get("place") or "–", a["status"], a.get("seconds"), measured(a.get("run_dir")),
                a.get("error") or "", a.get("run_dir") or "–"] for a in meta["attempts"]])
    meta["boards"] = {a["place"]: a["run_dir"] for a in done}
    if len(done) >= 2:
        across = compare_many([Path(a["run_dir"]) for a in done], [a["place"] for a in done])
        meta["across"] = across
        render_across(across, doc, "Across boards")
    else:
        doc.p("Across boards: fewer than two boards finished; nothing to compare.")
    md = rd.file("lab-report.md")
    write_atomic(md, doc.markdown().encode())
    write_atomic(rd.file("lab-report.html"), doc.html(f"Lab report {meta['lab_id']}").encode())
    return md
