#!/usr/bin/env python3
"""The README's report excerpts, from a real run (figures in the README are never typed by hand):
runs each bench the README quotes and rewrites the text between `<!-- figures:<name> -->` and
`<!-- /figures:<name> -->` with that run's overall verdict and summary table, as report.md prints them.

    make readme-figures                                   # every block (runs the benches: minutes)
    python -m tools.readme_figures --blocks qemu-mlperf   # one block
    python -m tools.readme_figures --check                # exit 1 when the README differs from a fresh run

tests/host/test_readme_figures.py checks the README against fresh runs of the deterministic parts."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@dataclass(frozen=True)
class Block:
    """One quoted bench: how it is run (the command the README shows) and the columns it quotes."""

    target: str
    config: str
    runs: int
    columns: tuple[str, ...]
    deterministic: tuple[str, ...]  # columns a rerun reproduces exactly (the check compares these)

    @property
    def command(self) -> str:
        return f"make bench TARGET={self.target} CONFIG={self.config} RUNS={self.runs}"


EXACTNESS = ("exact vs TFLM %", "max |Δ| LSB", "MAE vs float", "top-1 agree vs float %")
BLOCKS = {
    # QEMU -icount: instruction counts, hence µs, are deterministic — every column is reproduced
    "qemu-mlperf": Block("qemu-m4", "mlperf-tiny", 20,
                         ("model", "samples", "p50 µs", "mean instructions", *EXACTNESS, "peak arena"),
                         ("model", "samples", "p50 µs", "mean instructions", *EXACTNESS, "peak arena")),
    # wall-clock latency on this PC varies from run to run: the check compares the other columns
    "host-mlperf": Block("host", "mlperf-tiny", 100, ("model", "samples", "p50 µs", *EXACTNESS),
                         ("model", "samples", *EXACTNESS)),
}


def run_bench(block: Block, results: Path, config: Path | None = None) -> Path:
    """The bench as a user runs it (`python -m harness bench`); returns its run directory."""
    cmd = [sys.executable, "-m", "harness", "--quiet", "bench", "--target", block.target, "--config",
           str(config or block.config), "--runs", str(block.runs), "--results", str(results)]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"error: {' '.join(cmd[2:])} failed (exit {r.returncode}): {r.stderr.strip()[-400:]}")
    return next(results.glob("*/*/report.md")).parent


def excerpt(block: Block, run_dir: Path) -> str:
    """The block's Markdown: the command, the run's overall verdict, the quoted summary columns."""
    from harness.report.document import Cell, Doc
    from harness.report.header import summary_rows
    from harness.report.run_report import context
    from harness.results.rundir import RunDir

    ctx = context(RunDir(run_dir), with_plots=False)
    headers, rows = summary_rows(ctx)
    keep = [headers.index(c) for c in block.columns]
    doc = Doc()
    doc.p(f"`{block.command}` → **{ctx.summary.line}**")
    doc.table([headers[i] for i in keep], [[_text(r[i], Cell) for i in keep] for r in rows])
    return doc.markdown().strip()


def _text(cell, cell_type) -> object:
    return cell.text if isinstance(cell, cell_type) else cell


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- figures:{re.escape(name)} -->\n)(.*?)(<!-- /figures:{re.escape(name)} -->)", re.S)


def quoted(text: str, name: str) -> str:
    """The README's current block `name` (without its markers)."""
    m = _pattern(name).search(text)
    if not m:
        raise SystemExit(f"error: {README} has no <!-- figures:{name} --> … <!-- /figures:{name} --> block")
    return m.group(2).strip()


def table_rows(block_text: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """The quoted table as rows of {column: cell}, restricted to `columns` (for the check)."""
    lines = [ln for ln in block_text.splitlines() if ln.startswith("|")]
    split = [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in lines]
    head = split[0]
    return [{c: r[head.index(c)] for c in columns} for r in split[2:]]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", nargs="+", choices=sorted(BLOCKS), default=sorted(BLOCKS))
    ap.add_argument("--check", action="store_true", help="compare instead of rewriting; exit 1 on a difference")
    a = ap.parse_args(argv)
    text = README.read_text()
    stale = []
    for name in a.blocks:
        block = BLOCKS[name]
        quoted(text, name)
        with tempfile.TemporaryDirectory() as tmp:
            fresh = excerpt(block, run_bench(block, Path(tmp)))
        if a.check:
            if table_rows(fresh, block.deterministic) != table_rows(quoted(text, name), block.deterministic):
                stale.append(name)
            continue
        text = _pattern(name).sub(lambda m: m.group(1) + fresh + "\n" + m.group(3), text)
        print(f"{name}: {block.command}")
    if a.check:
        print("stale: " + ", ".join(stale) + " (run `make readme-figures`)" if stale else "README excerpts match")
        return 1 if stale else 0
    README.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
