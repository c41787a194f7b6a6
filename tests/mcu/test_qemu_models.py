"""qemu-m4 (mps2-an386, -icount 0): boot + HELLO, upload + run bit-exact vs the TFLM
interpreter, deterministic instruction counts, and the errors a user meets first."""

from __future__ import annotations

import numpy as np
import pytest

from harness.errors import UnsupportedModel
from tests.common import shared_model
from tests.mcu.mcu_util import ROOT, qemu_driver, random_inputs, run_bitexact, tflm_outputs

MODELS = ["tflm/hello_world_int8.tflite", "tflm/simple_add_model.tflite", "mlperf_tiny/ad01_int8.tflite",
          "mlperf_tiny/kws_ref_model.tflite", "mlperf_tiny/vww_96_int8.tflite",
          "mlperf_tiny/pretrainedResnet_quant.tflite"]
N = 20


@pytest.fixture(scope="module")
def qemu():
    d = qemu_driver()
    d.info = d.open()
    yield d
    d.close()


def test_boot_hello(qemu):
    info = qemu.info
    assert (info.board, info.cpu, info.kind) == ("mps2-an386", "cortex-m4", "qemu")
    assert info.time_unit == "instructions" and info.clock_hz == 25_000_000
    assert info.facts["tick_scale"] == 40.0 and info.facts["timer"] == "systick"
    assert len(info.boot_id) == 16 and info.facts["max_model_bytes"] >= 400_000
    assert info.facts["arena_bytes"] >= 200_000
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= set(info.facts["ops"])


@pytest.mark.parametrize("rel", MODELS, ids=lambda r: r.split("/")[-1].split(".")[0])
def test_bitexact_vs_tflm(qemu, rel):
    li, res = run_bitexact(qemu, shared_model(rel).read_bytes(), rel, N)
    assert res.ticks.shape == (N,) and (res.ticks > 0).all() and (res.ticks % 40 == 0).all()
    assert res.op_ticks.shape == (N, li.facts["ops"])
    assert res.retries == 0


def test_ticks_repeat_exactly(qemu):
    data = shared_model("mlperf_tiny/kws_ref_model.tflite").read_bytes()
    li = qemu.load(data, "kws")
    xs = random_inputs(li.inputs, 3, seed=1)
    a, b = qemu.run(xs), qemu.run(xs)
    # Same work, same instruction count, exactly, under any host load (-icount sleep=off,
    # docs/mcu.md): totals and per-op ticks.
    assert np.array_equal(a.ticks, b.ticks), (a.ticks, b.ticks)
    assert np.array_equal(a.op_ticks, b.op_ticks)
    assert np.array_equal(a.outputs[0], b.outputs[0])


def test_intermediate_tensors(qemu):
    data = shared_model("mlperf_tiny/kws_ref_model.tflite").read_bytes()
    li = qemu.load(data, "kws")
    x = random_inputs(li.inputs, 1, seed=2)
    tensors = qemu.tensors([x[0][0]])
    assert len(tensors) == li.facts["ops"]
    from harness.analysis.per_layer import oracle_tensors

    oracle = oracle_tensors(data, [x[0][0]], list(tensors), "kws")
    for t, v in tensors.items():
        assert np.array_equal(v.ravel(), np.asarray(oracle[t]).ravel()), f"tensor {t}"
    assert np.array_equal(qemu.run(x).outputs[0], tflm_outputs(data, x)[0])  # plan restored


def test_model_too_big_names_bytes(qemu):
    cap = qemu.info.facts["max_model_bytes"]
    with pytest.raises(UnsupportedModel, match=rf"is {cap + 1000} bytes; .* at most {cap} bytes"):
        qemu.load(b"\x00" * (cap + 1000), "huge.tflite")
    # The target checks it too, for hosts that do not look at HELLO first.
    with pytest.raises(UnsupportedModel, match=rf"{cap + 1} bytes; this target holds at most {cap}"):
        qemu.client.upload(b"\x01" * (cap + 1))


def test_arena_too_small_names_bytes(qemu):
    data = shared_model("tflm/simple_add_model.tflite").read_bytes()  # three 16 KB tensors
    qemu.client.upload(data)
    with pytest.raises(UnsupportedModel, match=r"arena too small: need \d+ bytes, have 4096"):
        qemu.client.replan(arena_limit=4096)


def test_unsupported_op_names_op_and_node(qemu):

    from tools.tflite_build import ModelBuilder

    mb = ModelBuilder()
    a = mb.tensor((1, 8), scale=0.1, zp=0)
    b = mb.tensor((1, 8), scale=0.1, zp=0)
    c = mb.tensor((1, 8), scale=1 / 128, zp=0)
    mb.op("ADD", [a, a], [b], {0: ("u8", 0)})
    mb.op("GELU", [b], [c])
    mb.inputs, mb.outputs = [a], [c]
    with pytest.raises(UnsupportedModel, match=r"gelu\.tflite: .*unsupported op GELU at node 1"):
        qemu.load(mb.build(), "gelu.tflite")


def test_progress_is_told_per_inference(qemu):
    """The bench's bar hears inferences as their replies arrive, not once per pipelined window."""
    from harness.drivers.base import Watcher
    from tests.common import MODELS as OURS

    heard: list[int] = []

    class Ears(Watcher):
        def inferences(self, n: int) -> None:
            heard.append(n)

    qemu.watcher = Ears()
    try:
        li = qemu.load((OURS / "digits_int8.tflite").read_bytes(), "digits")
        qemu.run(random_inputs(li.inputs, 20, seed=3))
    finally:
        del qemu.watcher  # back to the class's silent watcher
    windows = -(-20 // qemu.opts.batch)
    assert sum(heard) == 20 and len(heard) > windows, heard
