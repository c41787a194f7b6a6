"""bench/perf_profile.py on a real QEMU run: a 3x3 depthwise op's instructions land on the
depthwise kernel's functions, and the kernel functions' sum stays within the invoke's SysTick
count; bad arguments are one line and exit 2."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from bench import perf_profile
from tools.op_models import dwconv


@pytest.fixture
def dw_model(tmp_path):
    if not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")):
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc missing")
    p = tmp_path / "dw.tflite"
    p.write_bytes(dwconv(np.random.default_rng(3), in_shape=(1, 6, 6, 16), mult=1, k=(3, 3)).build())
    return p


def test_profile_names_the_kernel(dw_model, capsys):
    assert perf_profile.main([str(dw_model), "--runs", "1", "--top", "40"]) == 0
    out = capsys.readouterr().out
    invoke = int(re.search(r"the invoke alone ([\d,]+)", out).group(1).replace(",", ""))
    rows = dict((m.group(1), int(m.group(2).replace(",", ""))) for m in re.finditer(r"^  (\S+) +([\d,]+)", out, re.M))
    kernel = {k: v for k, v in rows.items() if re.match(r"d[345]_|hb_d3_|edge_|widen_", k)}
    assert rows.get("d5_rows6", 0) > 0, out  # the 6-wide rows of the narrow kernel
    assert 0.5 * invoke < sum(kernel.values()) <= invoke, out


@pytest.mark.parametrize("args", [["nope.tflite"], ["{m}", "--build", "m9:dsp"], ["{m}", "--runs", "0"],
                                  ["{m}", "--match", "("]])
def test_bad_arguments(tmp_path, capsys, args):
    m = tmp_path / "m.tflite"
    m.write_bytes(b"x")
    assert perf_profile.main([a.format(m=m) for a in args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("perf_profile: ")
