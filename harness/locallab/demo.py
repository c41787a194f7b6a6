"""`make lab-demo`: a labgrid lab on this machine, the fan-out on it, and its lab report.

    python -m harness.locallab.demo [--config lab-kws] [--runs N] [--results results]

Starts a real labgrid-coordinator and labgrid-exporter on 127.0.0.1 publishing three emulated
boards (locallab.lab.DEMO_BOARDS: a Cortex-M4 behind a real ser2net RFC 2217 port on a pty, a
Cortex-M7 and a second M4 on raw TCP, the last one running another build, so it is flashed),
runs `harness lab --places 'board=mps2-*'` on them, checks that every board's outputs equal the
TFLM interpreter's byte for byte, prints where the lab report is, stops the lab and checks that
none of its processes (coordinator, exporter, ser2net, QEMU) is left. Exit 1 if a check fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import HarnessError, RegressionFailed
from ..results.files import read_json
from ..run import lab
from ..ui import UI
from .lab import LocalLab


def check_exact(lab_dir: Path) -> list[str]:
    """Every board, every model: 0 LSB from the TFLM oracle on every output tensor; problems otherwise."""
    meta = read_json(lab_dir / "lab.json")
    problems = [f"{a.get('place')}: {a['status']} {a.get('error', '')}" for a in meta["attempts"]
                if a["status"] != "complete"]
    for place, run in meta.get("boards", {}).items():
        for model, m in read_json(Path(run) / "metrics.json").items():
            for tensor, t in m["tensors"].items():
                vs = t["vs"].get("tflm")
                if vs is None or vs["max_abs"] != 0 or vs["exact_pct"] != 100.0:
                    problems.append(f"{place} {model} {tensor}: not byte-equal to TFLM ({vs})")
    if len(meta.get("boards", {})) < 2:
        problems.append(f"only {len(meta.get('boards', {}))} board(s) finished; the demo needs at least 2")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.locallab.demo", description=__doc__.split("\n")[0])
    p.add_argument("--config", default="lab-kws")
    p.add_argument("--runs", type=int)
    p.add_argument("--results", default="results")
    a = p.parse_args(argv)
    ui = UI()
    local, report, problems = LocalLab(say=ui.say), None, []
    try:
        with local:
            req = lab.LabRequest(("board=mps2-*",), a.config, local.coordinator, wait=60.0, runs=a.runs,
                                 results=a.results)
            report = lab.start(req, ui)
    except HarnessError as e:
        problems.append(str(e))
    left = local.leftovers()
    problems += [f"left running: {x}" for x in left]
    if report is not None:
        print(report.read_text())
        problems = check_exact(report.parent) + problems
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if report is not None:
        print(f"lab report: {report}\nlab report: {report.with_suffix('.html')}")
    print("lab stopped: no coordinator, exporter, ser2net or QEMU process of it is left" if not left else
          f"lab stopped, but {len(left)} process(es) are left")
    return RegressionFailed.exit_code if problems else 0

if __name__ == "__main__":
    sys.exit(main())
