"""Weight-bit sweep: flatbuffer edits in place, checked against the TFLM oracle."""

import numpy as np
import pytest

from harness.core import model as models
from harness.errors import ModelError
from harness.run import inputs
from harness.run.sweep_weights import rewrite_weights
from harness.runtimes.runner import Runner
from tests.common import MODELS, run_cli


def _digits():
    return models.load(MODELS / "digits_int8.tflite")


def test_eight_bits_is_the_identity():
    data, _ = _digits()
    new, summary = rewrite_weights(data, 8, "digits")
    assert new == data and summary["layers"] == 5


def test_k_bit_grid_and_model_still_runs():
    data, info = _digits()
    new, _ = rewrite_weights(data, 4, "digits")
    assert len(new) == len(data) and new != data
    ins = inputs.random_inputs(info.inputs, 5, 0)
    r = Runner("tflm")
    r.load(new, "w4")
    out, _ = r.run(ins.arrays)
    assert out[0].shape == (5, 10)


def test_per_tensor_fc_weights_are_handled():
    data, _ = models.load(MODELS / "ops" / "fully_connected.tflite")
    new, summary = rewrite_weights(data, 4, "fc")
    assert summary["layers"] == 1 and new != data


@pytest.mark.parametrize("bits", [1, 9])
def test_bits_out_of_range(bits):
    data, _ = _digits()
    with pytest.raises(ModelError, match="between 2 and 8"):
        rewrite_weights(data, bits, "digits")


def test_sweep_cli_bad_input_is_one_line(tmp_path):
    r = run_cli("--quiet", "sweep", "--model", str(MODELS / "ops" / "add.tflite"), "--float",
                str(MODELS / "digits_float.tflite"), "--results", str(tmp_path))
    assert r.returncode == 2 and "not SOFTMAX" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("--quiet", "sweep", "--model", str(MODELS / "digits_int8.tflite"), "--float",
                str(MODELS / "digits_float.tflite"), "--bits", "12", "--results", str(tmp_path))
    assert r.returncode == 2 and "between 2 and 8" in r.stderr


def test_sweep_on_host_gives_the_table(tmp_path):
    r = run_cli("--quiet", "sweep", "--model", str(MODELS / "digits_int8.tflite"), "--float",
                str(MODELS / "digits_float.tflite"), "--dataset", str(MODELS / "digits_test.npz"),
                "--bits", "8", "4", "--runs", "100", "--results", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "| 8 |" in r.stdout and "| 4 |" in r.stdout and "ECE, device (15 bins)" in r.stdout  # labelled as in a run report


def test_sweep_on_qemu_m4(tmp_path):
    import shutil

    if not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")):
        pytest.skip("qemu-system-arm / arm-none-eabi-gcc not installed (make test installs them)")
    r = run_cli("--quiet", "sweep", "--model", str(MODELS / "digits_int8.tflite"), "--float",
                str(MODELS / "digits_float.tflite"), "--dataset", str(MODELS / "digits_test.npz"),
                "--bits", "8", "4", "--runs", "60", "--target", "qemu-m4", "--results", str(tmp_path), timeout=600)
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith("| 8 |") or line.startswith("| 4 |")]
    assert len(rows) == 2 and all(row.rstrip(" |").endswith("100") for row in rows), rows  # bit-exact vs TFLM
    assert next(tmp_path.glob("qemu-m4/*/sweep.html")).stat().st_size > 10_000
