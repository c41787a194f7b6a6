"""qemu-m7 (mps2-an500, Cortex-M7) and qemu-m55 (mps3-an547, Cortex-M55): boot + HELLO with
the board's facts, then bit-exact vs the TFLM interpreter on a small model subset (the full
set runs on qemu-m4 in test_qemu_models.py; the engine and kernels are the same C)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.config import load_target
from harness.drivers import driver_class
from tests.mcu.mcu_util import ROOT, SHARED, run_bitexact

pytestmark = pytest.mark.qemu

# target -> (board, cpu, clock Hz, instructions per SysTick tick under -icount shift=0)
BOARDS = {"qemu-m7": ("mps2-an500", "cortex-m7", 25_000_000, 40.0),
          "qemu-m55": ("mps3-an547", "cortex-m55", 32_000_000, 31.25)}
MODELS = ["shared:tflm/hello_world_int8.tflite", "shared:mlperf_tiny/kws_ref_model.tflite",
          "models/digits_int8.tflite"]
N = 20


@pytest.fixture(scope="module", params=sorted(BOARDS))
def target(request):
    t = load_target(request.param)
    d = driver_class(t.kind)(t)
    d.info = d.open()
    yield d
    d.close()


def model_bytes(ref: str) -> bytes:
    if ref.startswith("shared:"):
        p = SHARED / ref.split(":", 1)[1]
        if not p.exists():
            pytest.skip(f"{p} not present: the third-party models live in ../shared/models beside the repo")
        return p.read_bytes()
    return (ROOT / ref).read_bytes()


def test_boot_hello(target):
    board, cpu, clock, scale = BOARDS[target.target.name]
    info = target.info
    assert (info.board, info.cpu, info.kind, info.clock_hz) == (board, cpu, "qemu", clock)
    assert info.facts["clock_hz"] == clock and info.facts["timer"] == "systick"
    assert info.time_unit == "instructions" and info.facts["tick_scale"] == scale
    assert len(info.boot_id) == 16
    # A 400 KB model and a 200 KB arena fit (DESIGN.md), with room to spare.
    assert info.facts["max_model_bytes"] >= 1 << 20 and info.facts["arena_bytes"] >= 1 << 20


@pytest.mark.parametrize("ref", MODELS, ids=lambda r: r.split("/")[-1].split(".")[0])
def test_bitexact_vs_tflm(target, ref):
    li, res = run_bitexact(target, model_bytes(ref), ref, N)
    scale = BOARDS[target.target.name][3]
    assert res.ticks.shape == (N,) and (res.ticks > 0).all() and res.retries == 0
    # Ticks arrive as whole instructions: a multiple of the tick length, to rounding.
    frac = (res.ticks / scale) - np.rint(res.ticks / scale)
    assert np.abs(frac).max() * scale <= 0.5 + 1e-9, res.ticks
