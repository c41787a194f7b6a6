"""--baseline is checked before anything runs; every broken tolerance is listed on the terminal and in
junit.xml; latencies in different time units are never compared (issue #11 item 5)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness import cli
from tests.common import MODELS

ADD = MODELS / "ops" / "add.tflite"


@pytest.fixture
def runs(tmp_path, capsys):
    """A finished run and a copy of it to use as the baseline."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"runs: 20\nreferences: [tflm]\nmodels: [{{path: {ADD}}}]\n"
                   "tolerances: {max_lsb: 0, min_exact_pct: 100, max_swapped_pct: 0, max_latency_increase_pct: -100}\n")
    assert cli.main(["--quiet", "bench", "--config", str(cfg), "--results", str(tmp_path / "res")]) == 0
    capsys.readouterr()
    (run,) = (tmp_path / "res").glob("host/*")
    base = tmp_path / "base"
    shutil.copytree(run, base)
    return run, base


def _edit_outputs(base: Path) -> None:
    """The baseline's outputs 3 LSB off in every element: max_lsb and min_exact_pct break."""
    path = base / "outputs" / "add.npz"
    arrays = dict(np.load(path))
    arrays["outputs_0"] = (arrays["outputs_0"].astype(np.int16) - 3).clip(-128, 127).astype(np.int8)
    np.savez(path, **arrays)


def _edit_meta(base: Path, **target) -> None:
    meta = json.loads((base / "run.json").read_text())
    meta["target"].update(target)
    (base / "run.json").write_text(json.dumps(meta))


def test_every_broken_tolerance_is_listed(runs, capsys):
    run, base = runs
    _edit_outputs(base)
    assert cli.main(["--quiet", "report", str(run), "--baseline", str(base)]) == 1
    err = capsys.readouterr().err
    assert "3 tolerance(s) broken" in err, err
    for check in ("add: max |d| 3 LSB", "add: exact ", "add: latency +0.00 % (limit -100)"):
        assert check in err, err
    junit = (run / "junit.xml").read_text()
    assert junit.count("<failure") == 3 and 'failures="3"' in junit


def test_another_kind_of_target_is_refused_unless_allowed(runs, capsys):
    run, base = runs
    _edit_meta(base, kind="qemu", time_unit="instructions")
    assert cli.main(["--quiet", "report", str(run), "--baseline", str(base)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "a qemu run, this target is host" in err[0] and "--allow-other-target" in err[0]
    assert cli.main(["--quiet", "report", str(run), "--baseline", str(base), "--allow-other-target"]) == 0, \
        capsys.readouterr().err  # same outputs; the impossible latency limit is not checked across units
    junit = (run / "junit.xml").read_text()
    assert "<skipped message=\"latency not compared: this run measures ns, the baseline instructions\"" in junit
    assert 'failures="0"' in junit and 'skipped="1"' in junit


def test_a_bad_baseline_stops_the_bench_before_it_starts(tmp_path, runs, capsys):
    _, base = runs
    _edit_meta(base, kind="qemu")
    out = tmp_path / "never"
    for baseline in (str(tmp_path / "nothere"), str(base)):
        assert cli.main(["--quiet", "bench", "--models", str(ADD), "--baseline", baseline, "--results", str(out)]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not out.exists()
