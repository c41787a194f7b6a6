"""Per-layer localisation on the host target: the first diverging op is found and marked."""

import json

from tests.common import run_cli, shared_model


def _layers(results, *extra, config="digits"):
    r = run_cli("--quiet", "bench", "--config", config, "--runs", "10", "--per-layer", "2",
                "--results", str(results), *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(next(results.glob("*/*/metrics.json")).read_text())


def test_reference_kernels_match_the_oracle_in_every_layer(tmp_path):
    mets = _layers(tmp_path, "--target", "host-ref")
    rows = mets["digits_int8"]["per_layer"]
    assert len(rows) == 8 and not any(r["first_diverging"] for r in rows)
    assert all(r["max_abs"] == 0 for r in rows if r["max_abs"] is not None)
    assert any(r.get("float_mae") is not None for r in rows), "digits tensor names match the float twin"


def test_resnet_optimized_first_diverging_op(tmp_path):
    model = shared_model("mlperf_tiny/pretrainedResnet_quant.tflite")
    mets = _layers(tmp_path, "--models", str(model))
    rows = mets["pretrainedResnet_quant"]["per_layer"]
    first = [r for r in rows if r["first_diverging"]]
    assert len(first) == 1 and first[0]["max_abs"] > 0
    assert all(r["max_abs"] == 0 for r in rows[: rows.index(first[0])] if r["max_abs"] is not None)


def test_native_firmware_engine_is_exact_in_every_layer(tmp_path):
    mets = _layers(tmp_path, "--target", "host-firmware", config="default")
    for name, m in mets.items():
        assert m["tensors"]["outputs_0"]["vs"]["tflm"]["max_abs"] == 0, name
        rows = m["per_layer"]
        assert rows and all(r["max_abs"] == 0 for r in rows if r["max_abs"] is not None), name
