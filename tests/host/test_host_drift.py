"""The foundation's promise: real drift between x86 kernel sets on a real MLPerf Tiny model."""

import numpy as np

from harness.core import model as models
from harness.run import inputs
from harness.runtimes.runner import Runner
from tests.common import shared_model


def _outputs(kernels, data, ins):
    r = Runner(kernels)
    r.load(data, "resnet")
    return r.run(ins.arrays)[0][0]


def test_resnet_optimized_drifts_reference_matches_tflm():
    data, info = models.load(shared_model("mlperf_tiny/pretrainedResnet_quant.tflite"))
    ins = inputs.random_inputs(info.inputs, 40, 0)
    oracle = _outputs("tflm", data, ins)
    opt = _outputs("optimized", data, ins)
    ref = _outputs("reference", data, ins)
    d = np.abs(opt.astype(int) - oracle)
    assert (d == 0).mean() < 1.0 and d.max() > 0, "optimized kernels should differ from TFLM"
    assert np.array_equal(ref, oracle), "BUILTIN_REF must match TFLM on every byte"
