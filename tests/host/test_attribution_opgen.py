"""The replay's TFLM variant against the TFLM interpreter on the op generator's seeded random
single-op models (tests/firmware/opgen.py: random shapes, strides, dilations, quantisation,
activations, edge-pattern inputs), TFLM run in child processes by proof.prove: every case TFLM
runs must be reproduced byte for byte. `make test` runs 640 cases, `make test-long` 20 000."""

from __future__ import annotations

from collections import Counter

import pytest

from harness.analysis.attribution.explain import explain_op
from harness.analysis.attribution.graph import model_inputs, read_ops

QUICK, LONG = 16 * 40, 20_000


def _check(seeds: list) -> Counter:
    pytest.importorskip("tflite_micro")
    from tests.firmware.opgen import OPS, make_case
    from tests.firmware.proof import prove

    tally = prove(seeds, {}, keep=True)
    done, undefined, bad = Counter(), Counter(), []
    for (seed, op), want in sorted(tally.outputs.items()):
        case = make_case(seed, op)
        ops = read_ops(case.model, case.describe())
        ins, out = model_inputs(case.model, "m"), ops[0].outputs[0].index
        samples = [{**dict(zip(ins, rows)), out: w[0]} for rows, w in zip(case.samples, want)]
        r = explain_op(ops[0], ops, samples)
        if r["verdict"] == "not-replayed" and "undefined in C" in r["why"]:
            undefined[op] += 1  # TFLM's own int32 arithmetic overflows: no arithmetic to reproduce
            continue
        if r["verdict"] != "tflm":
            bad.append(f"{case.describe()}: {r.get('why') or r.get('tflm_match_pct')}")
        done[op] += 1
    assert not bad, f"{len(bad)} cases not reproduced:\n" + "\n".join(bad[:20])
    for op in OPS:
        assert done[op] >= 0.8 * len(seeds) / len(OPS), f"{op}: only {done[op]} cases replayed ({undefined})"
    return done


def test_tflm_variant_on_generated_ops():
    from tests.firmware.proof import seeds_for

    _check(seeds_for(QUICK, start=200_000))


@pytest.mark.long
def test_tflm_variant_on_generated_ops_long():
    from tests.firmware.proof import seeds_for

    _check(seeds_for(LONG, start=300_000))
