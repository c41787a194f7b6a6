"""The other MLPerf Tiny models through our benchmark image on QEMU (make test-long): their input
encodings (uint8 pixels, float32) and ad01's AUC against its 0.85 target."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from harness.core.model import inspect
from harness.drivers.eembc import values as ev
from tests.common import ROOT, run_cli, shared_model
from tests.eembc.eembc_util import loaded, oracle, qemu_eembc, random_rows, write_runner_dataset

pytestmark = [pytest.mark.qemu, pytest.mark.long]


@pytest.mark.parametrize("rel,opts", [("vww_96_int8", {}), ("pretrainedResnet_quant", {}),
                                      ("ad01_int8", {"firmware_results": "int8"})])
def test_each_model_is_bit_exact_through_its_reference_encoding(rel, opts):
    model = shared_model(f"mlperf_tiny/{rel}.tflite").read_bytes()
    x = random_rows(inspect(model, rel).inputs[0].shape, 3, seed=1)
    with loaded(qemu_eembc(perf_windows=0, **opts), model, rel) as d:
        res = d.run([x])
    assert np.array_equal(res.outputs[0], oracle(model, x))


def test_ad01_auc_against_its_target(tmp_path, results):
    path = shared_model("mlperf_tiny/ad01_int8.tflite")
    spec = inspect(path.read_bytes(), "ad01").inputs[0]
    x = random_rows(spec.shape, 12, seed=5)
    write_runner_dataset(tmp_path / "ad01", [ev.encode_input(r, spec, "float32") for r in x], [i % 2 for i in range(12)],
                         2)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"runs": 12, "warmup": 0, "references": ["tflm"], "models": [
        {"path": str(path), "dataset": str(tmp_path / "ad01"), "classification": False}]}))
    t = yaml.safe_load((ROOT / "targets" / "qemu-m4-eembc.yaml").read_text())
    t["options"].update(perf_windows=0, firmware_results="int8")
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(t))
    r = run_cli("bench", "--target", str(tmp_path / "t.yaml"), "--config", str(tmp_path / "c.yaml"),
                "--results", str(results))
    assert r.returncode == 0, r.stderr[-3000:]
    run = next(results.glob("*/*"))
    assert "AUC" in (run / "report.md").read_text() and "against the quality target 0.85" in (run / "report.md").read_text()
    assert json.loads((run / "metrics.json").read_text())["ad01_int8"]["tensors"]["outputs_0"]["vs"]["tflm"]["max_abs"] == 0
