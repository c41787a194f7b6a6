"""Model inspection and input sets, on the project's own models and on broken files."""

import numpy as np
import pytest

from harness.core import model as models, tensors
from harness.core.tensors import TensorSpec
from harness.errors import InputError, ModelError
from harness.run import inputs
from tests.common import MODELS


def test_digits_inspection():
    data, info = models.load(MODELS / "digits_int8.tflite")
    assert info.is_int8 and info.ops[-1] == "SOFTMAX" and "CONV_2D" in info.ops
    assert info.inputs[0].shape == (1, 8, 8, 1) and len(info.sha256) == 64


@pytest.mark.parametrize("cut", [0, 7, 100, 1000, 5000])
def test_truncated_model_is_a_model_error(tmp_path, cut):
    data = (MODELS / "digits_int8.tflite").read_bytes()[:cut]
    with pytest.raises(ModelError, match="x.tflite"):
        models.inspect(data, tmp_path / "x.tflite")


def test_not_a_tflite(tmp_path):
    p = tmp_path / "notes.tflite"
    p.write_text("hello, I am a text file pretending to be a model")
    with pytest.raises(ModelError, match="not a TFL3 flatbuffer"):
        models.load(p)


def test_float_model_where_int8_expected():
    _, info = models.load(MODELS / "digits_float.tflite")
    with pytest.raises(ModelError, match="expected an int8 model"):
        models.require_int8(info)


def test_twin_mismatch():
    _, q = models.load(MODELS / "digits_int8.tflite")
    _, f = models.load(MODELS / "ops" / "softmax.tflite")
    with pytest.raises(ModelError, match="do not match"):
        models.check_twin(q, f)


def test_quantize_rounds_half_away_from_zero():
    spec = TensorSpec("x", (1, 4), "int8", 0.5, 0)
    q = tensors.quantize(np.array([[0.25, -0.25, 0.74, 100.0]]), spec)
    assert q.tolist() == [[1, -1, 1, 127]]
    assert tensors.dequantize(q, spec).tolist() == [[0.5, -0.5, 0.5, 63.5]]


def test_random_inputs_are_deterministic():
    spec = TensorSpec("x", (1, 3, 3), "int8")
    a = inputs.random_inputs([spec], 5, 7).arrays[0]
    b = inputs.random_inputs([spec], 5, 7).arrays[0]
    assert a.shape == (5, 3, 3) and a.dtype == np.int8 and np.array_equal(a, b)


def test_dataset_with_labels_and_bad_labels(tmp_path):
    _, info = models.load(MODELS / "digits_int8.tflite")
    s = inputs.file_inputs(MODELS / "digits_test.npz", info.inputs, 10)
    assert len(s) == 10 and s.labels is not None and s.arrays[0].dtype == np.int8
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros((4, 8, 8, 1), np.float32), y=np.zeros(3))
    with pytest.raises(InputError, match="3 labels for 4 samples"):
        inputs.file_inputs(bad, info.inputs, None)
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((4, 7), np.float32))
    with pytest.raises(InputError, match="has samples of shape \\[7\\], input .image. takes \\[8, 8, 1\\]"):
        inputs.file_inputs(wrong, info.inputs, None)
