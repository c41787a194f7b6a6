"""The op generator's proof (opgen.py, proof.py): seeded random single-op models of all 16 ops,
each run on the TFLM interpreter and on the native engine with both kernel sets; every output
byte of every sample must be equal. `make test` runs 5 008 cases (313 per op), `make test-long`
100 000 more (seeds after those). A failing case prints its seed and is saved under
tests/firmware/regressions/, which test_exact_regressions.py replays from then on."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.firmware.fwbuild import both_builds  # noqa: F401 (fixture)
from tests.firmware.opgen import OPS, Case, make_case
from tests.firmware.proof import LONG_SEEDS, QUICK_SEEDS, Tally, check_case, prove


def _prove(builds, seeds) -> Tally:
    pytest.importorskip("tflite_micro")
    tally = prove(seeds, {k: str(b.lib) for k, b in builds.items()})
    print("\n" + tally.summary())
    assert not tally.failures, "\n".join(tally.failures)
    assert tally.cases == len(seeds)
    for op in OPS:  # refusals stay the exception: each op proves most of its cases
        assert tally.exact[op] >= 0.9 * len(seeds) / len(OPS), f"{op}: only {tally.exact[op]} exact cases"
    return tally


def test_generated_ops_exact(both_builds):
    _prove(both_builds, QUICK_SEEDS)


@pytest.mark.long
def test_generated_ops_exact_long(both_builds):
    _prove(both_builds, LONG_SEEDS)


def test_generator_reaches_the_corners():
    """What the proof is worth: over 1 600 cases the requantisation shifts span [-31, 30],
    multipliers sit at both ends of [2^30, 2^31), zero points at -128 and 127, biases at the
    int32 edges, every activation, per-channel and per-tensor weights."""
    shifts, mants, zps, biases, acts, per_ch = set(), [], set(), set(), set(), set()
    for case in (make_case(s) for s in range(1600)):
        p = case.params
        for k, v in p.items():
            if k.endswith("real_multiplier") and v > 0:
                m, e = math.frexp(v)
                shifts.add(e)
                mants.append(m)
        zps.update(v for k in ("in_zp", "zp") if k in p for v in [p[k]])
        biases.add(p.get("bias"))
        acts.add(p.get("act"))
        per_ch.add(p.get("per_channel"))
    assert min(shifts) <= -31 and max(shifts) >= 30
    assert min(mants) == 0.5 and max(mants) > 1 - 2.0**-20
    assert {-128, 127} <= zps
    assert {"edge", "wrap", "large", "none"} <= biases
    assert {0, 1, 2, 3} <= acts and {True, False} <= per_ch


def test_generator_is_deterministic():
    a, b = make_case(4242), make_case(4242)
    assert a.model == b.model and a.op == OPS[4242 % 16]
    assert all(np.array_equal(x, y) for sa, sb in zip(a.samples, b.samples) for x, y in zip(sa, sb))
    assert make_case(7, "MEAN").op == "MEAN"


def test_failing_case_prints_seed_and_saves_a_replayable_file(both_builds, tmp_path, monkeypatch, capsys):
    """The failure path, by corrupting TFLM's answer (the only fake: the engines are real)."""
    from tests.firmware import proof

    real = proof.tflm_run

    def off_by_one(model, samples):
        outs = real(model, samples)
        outs[0][0] = outs[0][0].copy()
        outs[0][0].ravel()[0] ^= 1
        return outs

    monkeypatch.setattr(proof, "tflm_run", off_by_one)
    tally = Tally()
    check_case(5, OPS[5], {"c": str(both_builds["c"].lib)}, tally, regressions=tmp_path)
    assert len(tally.failures) == 1 and tally.failures[0].startswith(f"seed 5 {OPS[5]}: c: sample 0 output 0")
    assert f"PROOF FAILURE seed 5 {OPS[5]}" in capsys.readouterr().out
    saved = Case.load(tmp_path / f"{OPS[5].lower()}-5.npz")
    case = make_case(5)
    assert saved.model == case.model and saved.params == case.params
    assert all(np.array_equal(x, y) for sa, sb in zip(saved.samples, case.samples) for x, y in zip(sa, sb))
