"""Input sets in the MLPerf Tiny runner's layout (a folder of .bin files and y_labels.csv)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.tensors import TensorSpec
from harness.errors import InputError
from harness.run.inputs import file_inputs
from tests.eembc.eembc_util import write_runner_dataset

KWS = TensorSpec("x", (1, 49, 10, 1), "int8", 0.5847, 83)
VWW = TensorSpec("x", (1, 4, 4, 3), "int8", 1 / 255, -128)


def test_kws_folder_reads_int8_bytes_and_labels(tmp_path):
    rows = [np.full(490, i, np.int8).tobytes() for i in (-3, 5, 7)]
    got = file_inputs(write_runner_dataset(tmp_path / "kws01", rows, [0, 11, 4], 12), [KWS], None)
    assert got.arrays[0].shape == (3, 49, 10, 1) and got.arrays[0].dtype == np.int8
    assert got.arrays[0][1].flat[0] == 5 and list(got.labels) == [0, 11, 4]
    assert "runner layout, int8" in got.source
    assert len(file_inputs(tmp_path / "kws01", [KWS], 2)) == 2


def test_image_folders_hold_uint8_pixels(tmp_path):
    pixels = np.arange(48, dtype=np.uint8) * 5
    got = file_inputs(write_runner_dataset(tmp_path / "vww01", [pixels.tobytes()], [1], 2), [VWW], None)
    assert np.array_equal(got.arrays[0].reshape(-1), (pixels.astype(int) - 128).astype(np.int8))


@pytest.mark.parametrize("csv,says", [
    ("../evil.bin,12,1\n", "not a plain file name"),
    ("/etc/passwd,12,1\n", "not a plain file name"),
    ("a.bin,12\n", "2 fields"),
    ("a.bin,12,12\n", "not below num_classes"),
    ("a.bin,x,1\n", "whole numbers"),
    ("missing.bin,12,1\n", "unreadable"),
    ("short.bin,12,1\n", "10 bytes; the model's input .1, 49, 10, 1. as int8 takes 490"),
    ("\n", "no samples"),
])
def test_bad_folders_are_one_line_errors(tmp_path, csv, says):
    d = tmp_path / "kws01"
    d.mkdir()
    (d / "short.bin").write_bytes(b"\0" * 10)
    (d / "y_labels.csv").write_text(csv)
    with pytest.raises(InputError, match=says):
        file_inputs(d, [KWS], None)


def test_a_folder_without_labels_says_what_it_needs(tmp_path):
    with pytest.raises(InputError, match="no y_labels.csv; a dataset folder in the MLPerf Tiny runner's layout"):
        file_inputs(tmp_path, [KWS], None)
