"""One worker of `harness lab`: a bench run on one labgrid place, in its own process.

    python -m harness.run.lab_worker --target T.yaml --config C --results DIR --out result.json [--runs N] [--models …]

Its own process per board: a board's run cannot stall or crash another's, host references are
computed on both cores. A worker runs in its own session: `harness lab` forwards one SIGINT on
Ctrl-C, and the worker gets SIGTERM if the lab process dies; either way it releases its place. The result
file says how it ended and, for a failure, whether the board/place failed (the lab may retry the
job on a spare place) or the input did (it would fail anywhere).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from ..errors import HarnessError, TargetError
from ..results.files import write_json
from ..ui import UI
from . import bench


def _interrupt(*_: object) -> None:
    """SIGINT or SIGTERM, the first time: unwind (finally blocks release the place); later ones are
    ignored, so a second signal cannot cut the release short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def run_dir_of(results: Path) -> Path | None:
    """The one run directory a worker made under its results folder (results/<target>/<run-id>)."""
    dirs = sorted(p for p in results.glob("*/*") if (p / "run.json").exists())
    return dirs[-1] if dirs else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.run.lab_worker")
    p.add_argument("--target", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--runs", type=int)
    p.add_argument("--models", nargs="*", default=[])
    a = p.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    out = {"status": "complete", "error": "", "board_failed": False}
    code = 0
    try:
        bench.start(bench.Request(a.target, a.config, tuple(a.models), a.runs, a.results), UI(quiet=True))
    except HarnessError as e:
        out.update(status="failed", error=str(e), board_failed=isinstance(e, TargetError))
        code = e.exit_code
    except KeyboardInterrupt:
        out.update(status="interrupted", error="interrupted (Ctrl-C)")
        code = 130
    run = run_dir_of(Path(a.results))
    out["run_dir"] = str(run) if run else None
    write_json(Path(a.out), out)
    if out["error"]:
        print(f"error: {out['error']}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
