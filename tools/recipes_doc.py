#!/usr/bin/env python3
"""Puts the latest measured recipe comparisons into docs/recipes.md (figures in the docs come from
a script run, never typed): for each target, the newest results/recipes/<target>/*/recipes.json
replaces the text between `<!-- recipes:<target> -->` and `<!-- /recipes:<target> -->`.

    make recipes-doc                     # make recipes on qemu-m4, host and rpi4-emu, then this
    python -m tools.recipes_doc [--results results] [--targets qemu-m4 rpi4-emu host]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "recipes.md"


def latest(results: Path, target: str) -> Path | None:
    runs = sorted((results / "recipes" / target).glob("*/recipes.json"))
    return runs[-1] if runs else None


def section(path: Path) -> str:
    from harness.report.document import Doc
    from harness.report.recipes import HEADERS, _cells, not_measured

    data = json.loads(path.read_text())
    doc = Doc()
    doc.p(f"Measured {data['created']} ({path.parent.relative_to(ROOT) if path.is_relative_to(ROOT) else path.parent}): "
          f"{data['model']}, {data['eval_samples']} evaluation samples; converter "
          f"{', '.join(f'{k} {v}' for k, v in (data.get('converter') or {}).items()) or 'not recorded'}.")
    doc.table(HEADERS, [_cells(r) for r in data["recipes"].values()])
    why = not_measured(data["recipes"])
    if why:
        doc.table(["recipe", "why it has no measurement"], why)
    return doc.markdown().strip()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=ROOT / "results")
    ap.add_argument("--targets", nargs="+", default=["qemu-m4", "rpi4-emu", "host"])
    a = ap.parse_args(argv)
    text = DOC.read_text()
    for t in a.targets:
        found = latest(a.results, t)
        if found is None:
            print(f"{t}: no comparison under {a.results}/recipes/{t}/ (run `make recipes TARGET={t}`)")
            continue
        pat = re.compile(rf"(<!-- recipes:{re.escape(t)} -->\n).*?(\n<!-- /recipes:{re.escape(t)} -->)", re.S)
        if not pat.search(text):
            print(f"{t}: {DOC} has no <!-- recipes:{t} --> markers")
            return 1
        text = pat.sub(lambda m: m.group(1) + section(found) + m.group(2), text)
        print(f"{t}: {found}")
    DOC.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
