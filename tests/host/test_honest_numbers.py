"""#11 item 3: a figure that is not exact never prints as 100, and every exactness claim has counts.

The crafted run: a bit-exact run of 2 000 samples (20 000 output elements) with one output byte
flipped — 99.995 % exact, which two decimals or four significant digits round to 100.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.analysis import metrics
from harness.analysis.figures import differing, honest, percent, share
from harness.report.document import _cell
from tests.common import MODELS, run_cli

ONE_OFF = "1 of 20 000 elements in 1 of 2 000 samples"


def test_formatting_never_rounds_onto_an_exact_value():
    assert share(19_999, 20_000) == "99.995" and share(10**12 - 1, 10**12) == "99.9999999999"
    assert share(20_000, 20_000) == "100" and share(0, 7) == "0" and share(1, 10**9) == "0.0000001"
    assert percent(99.99999) == "99.99999" and percent(100.0) == "100" and percent(1e-7) == "0.0000001"
    assert honest(0.99999) == "0.99999" and honest(1234.56) == "1235" and _cell(99.99996) == "99.99996"
    assert _cell(100.0) == "100" and _cell(0.5) == "0.5"


def test_exactness_counts_every_tensor_and_bit():
    dev = [np.zeros((4, 3), np.int8), np.zeros((4, 2), np.float32)]
    ref = [d.copy() for d in dev]
    ref[1][2, 1] = -0.0  # equal as numbers, not as bytes
    e = metrics.exactness(list(zip(dev, ref)))
    assert (e["elements"], e["differing"], e["samples"], e["samples_differing"], e["max_lsb"]) == (20, 1, 4, 1, 0)
    ref[0][3, 0] = 2
    e = metrics.exactness(list(zip(dev, ref)))
    assert differing(e) == "2 of 20 elements in 2 of 4 samples, max 2 LSB"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    """A bit-exact host-firmware run, and a copy of it with one output byte flipped, re-analysed."""
    tmp = tmp_path_factory.mktemp("honest")
    cfg = tmp / "c.yaml"
    cfg.write_text(f"runs: 2000\nbatch: 1000\nreferences: [tflm]\nmodels:\n  - path: {MODELS / 'digits_int8.tflite'}\n")
    r = run_cli("--quiet", "bench", "--target", "host-firmware", "--config", str(cfg), "--results", str(tmp / "r"))
    assert r.returncode == 0, r.stderr
    good = next((tmp / "r").glob("*/*/run.json")).parent
    bad = tmp / "flipped"
    shutil.copytree(good, bad)
    npz = bad / "outputs" / "digits_int8.npz"
    arrays = dict(np.load(npz))
    arrays["outputs_0"][1234, 7] ^= 1
    np.savez(npz, **arrays)
    return good, bad


def test_good_run_is_bit_exact_with_counts(runs):
    m = json.loads((runs[0] / "metrics.json").read_text())["digits_int8"]
    assert m["verdict"].startswith("bit-exact with the TFLM oracle (20 000 elements in 2 000 samples)")


def test_one_flipped_byte_shows_in_summary_verdict_and_junit(runs):
    good, bad = runs
    r = run_cli("--quiet", "report", str(bad), "--baseline", str(good))
    assert r.returncode == 1, r.stderr  # a regression against the bit-exact baseline
    m = json.loads((bad / "metrics.json").read_text())["digits_int8"]
    verdict = f"not bit-exact vs the TFLM oracle: {ONE_OFF} differ, max 1 LSB"
    assert m["verdict"].startswith(verdict), m["verdict"]
    md = (bad / "report.md").read_text()
    summary = md.split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert f"| 99.995 | {ONE_OFF}, max 1 LSB | 1 |" in summary, summary
    assert f"Verdict: {verdict}" in md and "| 100 |" not in summary
    html = (bad / "report.html").read_text()
    assert ">99.995</td>" in html and verdict in html
    junit = (bad / "junit.xml").read_text()
    assert 'name="min_exact_pct"><failure' in junit and f"exact 99.995 % vs the baseline: {ONE_OFF} differ" in junit
    assert f"<system-out>{verdict}" in junit


def test_compare_says_so(runs):
    r = run_cli("compare", str(runs[1]), str(runs[0]))
    assert r.returncode == 0, r.stderr
    assert f"| 99.995 | {ONE_OFF}, max 1 LSB |" in r.stdout, r.stdout
    assert f"run A is not bit-exact vs run B: {ONE_OFF} differ, max 1 LSB." in r.stdout
