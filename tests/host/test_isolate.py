"""The worker processes of harness.isolate: arrays cross intact, a crash is one line and leaves no
process behind, a malformed message is refused (no pickle: nothing in a reply is executed)."""

from __future__ import annotations

import json
import multiprocessing
import os
import struct

import numpy as np
import pytest

from harness.errors import UnsupportedModel
from harness.runtimes.isolate import InterpreterCrashed, ProtocolError, _duplex, context, recv, send
from harness.runtimes.runner import Runner
from tests.common import MODELS


def _flip(rel: str, pos: int, xor: int) -> bytes:
    b = bytearray((MODELS / rel).read_bytes())
    b[pos] ^= xor
    return bytes(b)


def test_arrays_cross_the_pipe_intact():
    a, b = _duplex(context())
    arrays = [np.arange(-128, 128, dtype=np.int8).reshape(16, 16), np.float32(3.5) * np.ones((2, 0, 3), np.float32),
              np.array(7, np.int64), np.asfortranarray(np.eye(3, dtype=np.float64))]
    send(a, {"op": "x"}, arrays)  # small enough for the pipe's buffer: no reader needed meanwhile
    head, got = recv(b)
    assert head == {"op": "x"} and [g.shape for g in got] == [x.shape for x in arrays]
    assert all(np.array_equal(g, x) and g.dtype == x.dtype for g, x in zip(got, arrays))


@pytest.mark.parametrize("header", [{"arrays": [["|O", [1]]]}, {"arrays": [["|i1", [-1]]]},
                                    {"arrays": [["<f8", [1 << 40]]]}, {"no": "arrays"}])
def test_malformed_messages_are_refused(header):
    a, b = _duplex(context())
    body = json.dumps(header).encode()
    os.write(a.tx.fileno(), struct.pack("<Q", len(body)) + body)
    with pytest.raises(ProtocolError):
        recv(b)


def test_crash_is_one_line_and_no_process_is_left():
    r = Runner("optimized")
    with pytest.raises(InterpreterCrashed, match=r"^add\.tflite: tflite-runtime crashed on this model: SIGSEGV"):
        r.load(_flip("ops/add.tflite", 298, 118), "add.tflite")
    assert not multiprocessing.active_children()
    with pytest.raises(UnsupportedModel, match="no model loaded"):
        r.run([np.zeros((1, 4, 4, 8), np.int8)])


def test_runner_results_equal_in_process_results():
    from harness.core import model as models
    from harness.run import inputs
    from harness.runtimes.interpreters import open_adapter, run_rows

    data, info = models.load(MODELS / "digits_int8.tflite")
    x = inputs.random_inputs(info.inputs, 50, 3).arrays
    for kernels in ("optimized", "tflm", "firmware"):
        with Runner(kernels) as r:
            r.load(data, "digits")
            outs, times = r.run(x)
        assert np.array_equal(outs[0], run_rows(open_adapter(data, kernels, "auto", 1, "d", False), x)[0][0])
        assert times.shape == (50,) and (times > 0).all()
    assert not multiprocessing.active_children()


def test_workers_write_no_file(tmp_path):
    """Pipes only: no socket or temporary file anywhere (multiprocessing's default before Python
    3.12 is a listener socket in $TMPDIR/pymp-*/, left behind when the harness is killed)."""
    import subprocess
    import sys

    from tests.common import ROOT

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code = ("from harness.runtimes.runner import Runner\n"
            f"r = Runner('tflm'); r.load(open({str(MODELS / 'ops' / 'softmax.tflite')!r}, 'rb').read(), 's')\n"
            "import os; os._exit(0)\n")  # no clean-up at exit: as if killed
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT)},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert not list(tmp.iterdir())
