"""tools/exact_check.py: re-runs a bench run's recorded inputs on TFLM and counts differing output
elements; exit 0 when none differ, 1 when one does, 2 on a bad run directory."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.firmware.fwbuild import ROOT
from tests.firmware.opgen import make_case, tflm_run

TOOL = ROOT / "tools" / "exact_check.py"


def _run_dir(tmp_path, flip: bool):
    pytest.importorskip("tflite_micro")
    case = make_case(2, "FULLY_CONNECTED")
    model = tmp_path / "fc.tflite"
    model.write_bytes(case.model)
    xs = np.stack([s[0] for s in case.samples])
    ys = np.stack([tflm_run(case.model, [s])[0][0] for s in case.samples])
    if flip:
        ys[3].ravel()[0] ^= 1
    run = tmp_path / "run"
    (run / "outputs").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"models": [{"path": str(model)}]}))
    np.savez(run / "outputs" / "fc.npz", inputs_0=xs, outputs_0=ys)
    return run, len(case.samples), ys[0].size * len(case.samples)


def _tool(*args):
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_exact_run_counts_zero(tmp_path):
    run, n, elems = _run_dir(tmp_path, flip=False)
    r = _tool(run)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == (f"fc: {n} samples, {elems} output elements: 0 elements differ from TFLM in 0 samples "
                                "(max |d| 0 LSB): bit-exact")


def test_one_flipped_byte_is_counted(tmp_path):
    run, n, elems = _run_dir(tmp_path, flip=True)
    r = _tool(run)
    assert r.returncode == 1
    assert f"{elems} output elements: 1 elements differ from TFLM in 1 samples (max |d| 1 LSB): NOT bit-exact" in r.stdout


def test_bad_run_directory_is_one_line(tmp_path):
    r = _tool(tmp_path)
    assert r.returncode == 2 and len(r.stdout.strip().splitlines()) == 1 and "not a run directory" in r.stdout
    assert not r.stderr
