"""Re-checks a bench run's device outputs against a fresh TFLM interpreter, independent of the
report: every recorded input of every model is run again on TFLM and compared byte for byte
with the outputs the target returned. Counts, not percentages.

    python tools/exact_check.py results/qemu-m4/<run-id> [--models DIR_OR_FILE ...]

Exit 0 when every byte is equal, 1 when any differs, 2 on bad arguments."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def _model_paths(run: Path) -> dict[str, Path]:
    """model name -> .tflite path, from run.json (whatever layout its writer used)."""
    doc = json.loads((run / "run.json").read_text())
    found: dict[str, Path] = {}

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and v.endswith(".tflite"):
            p = Path(v) if Path(v).is_absolute() else (Path.cwd() / v)
            if p.exists():
                found.setdefault(p.stem, p.resolve())

    walk(doc)
    return found


def check(run: Path, models: dict[str, Path]) -> int:
    from tflite_micro.python.tflite_micro import runtime as tflm

    bad_total = 0
    for npz in sorted((run / "outputs").glob("*.npz")):
        name = npz.stem
        if name not in models:
            print(f"{name}: model file not found (give it with --models)")
            return 2
        z = np.load(npz)
        ins = sorted(k for k in z.files if k.startswith("inputs_"))
        outs = sorted(k for k in z.files if k.startswith("outputs_"))
        oracle = tflm.Interpreter.from_bytes(models[name].read_bytes(), arena_size=16 << 20)
        n, elems, bad_el, bad_samples, max_d = len(z[outs[0]]), 0, 0, 0, 0
        for k in range(n):
            for i, key in enumerate(ins):
                oracle.set_input(z[key][k].reshape(oracle.get_input_details(i)["shape"]), i)
            oracle.invoke()
            diff = 0
            for j, key in enumerate(outs):
                ref, got = np.asarray(oracle.get_output(j)).ravel(), z[key][k].ravel()
                d = got.astype(np.int64) - ref.astype(np.int64)
                diff += int(np.count_nonzero(d))
                max_d = max(max_d, int(np.abs(d).max(initial=0)))
                elems += ref.size
            bad_el += diff
            bad_samples += bool(diff)
        bad_total += bad_el
        verdict = "bit-exact" if bad_el == 0 else "NOT bit-exact"
        print(f"{name}: {n} samples, {elems} output elements: {bad_el} elements differ from TFLM in "
              f"{bad_samples} samples (max |d| {max_d} LSB): {verdict}")
    return 1 if bad_total else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--models", type=Path, nargs="*", default=[])
    a = ap.parse_args(argv)
    if not (a.run / "run.json").is_file() or not (a.run / "outputs").is_dir():
        print(f"{a.run}: not a run directory (no run.json / outputs/); give results/<target>/<run-id>")
        return 2
    try:
        models = _model_paths(a.run)
    except (OSError, ValueError) as e:
        print(f"{a.run / 'run.json'}: unreadable ({e}); give a bench run directory")
        return 2
    for m in a.models:
        if not m.exists():
            print(f"{m}: no such model file or folder")
            return 2
        for p in ([m] if m.is_file() else sorted(m.rglob("*.tflite"))):
            models[p.stem] = p
    return check(a.run, models)


if __name__ == "__main__":
    sys.exit(main())
