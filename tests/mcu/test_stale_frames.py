"""Late copies of frames must never pass for new ones (docs/protocol.md, sessions): copies of
every 97th frame are re-delivered 1, 256, 768 and 70 000 frames after the original, both ways,
and the run's outputs must equal a clean run's. With 8-bit sequence numbers the 256/768 copies
landed exactly on a wrapped seq and 2–5 of 1 000 rows came back wrong with 0 retries.

Paths: the firmware's link/command layer on pipes (native target), the Linux agent
(agent/server.py, on pipes as over SSH), and QEMU through the TCP proxy. 1 000 inferences with
the 1/256/768 copies in `make test`; the 70 000-frame copies need ~24 000 inferences (a few
minutes on each path): `make test-long`."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from harness.drivers.ssh.agent_client import AgentClient
from harness.protocol.link import Link
from tests.common import shared_model
from tests.mcu.fault_proxy import FilteredStream, Replayer
from tests.mcu.mcu_util import ROOT, PipeStream, clean_qemu_run, native_driver, native_target_binary, proxied_qemu

DELAYS = (1, 256, 768, 70_000)
FRAMES_PER_INFERENCE = 3  # SET_INPUT, INVOKE, GET_OUTPUT (hello_world, digits: one input, one output)
N_LONG = 70_000 // FRAMES_PER_INFERENCE + 400  # enough inferences for the 70 000-frame copies
RUNS = [pytest.param(1000, DELAYS[:3], id="1-256-768"),
        pytest.param(N_LONG, DELAYS, id="70000", marks=pytest.mark.long)]


def replayers(delays=DELAYS) -> dict[bool, Replayer]:
    return {True: Replayer(delays), False: Replayer(delays)}


def assert_copies_delivered(reps: dict[bool, Replayer], delays) -> None:
    for to_target, r in reps.items():
        assert all(r.copies[d] > 0 for d in delays), (to_target, r.copies, r.frames)


def _native_run(target_bin, data: bytes, xs, reps=None):
    with native_driver(target_bin, reps and (reps[True], reps[False])) as d:
        d.open()
        d.load(data, "hello_world")
        return d.run(xs)


@pytest.mark.parametrize("n, delays", RUNS)
def test_late_copies_through_the_firmware_link_layer(n, delays):
    data = shared_model("tflm/hello_world_int8.tflite").read_bytes()
    target_bin = native_target_binary()
    xs = [np.random.default_rng(11).integers(-128, 128, (n, 1), dtype=np.int8)]
    want = _native_run(target_bin, data, xs)
    reps = replayers(delays)
    got = _native_run(target_bin, data, xs, reps)
    assert_copies_delivered(reps, delays)
    assert np.array_equal(got.outputs[0], want.outputs[0])
    print(f"native: {got.retries} retries; copies to target {reps[True].copies}, to host {reps[False].copies}")


def _agent_run(model: bytes, cache_dir, xs: np.ndarray, reps=None) -> np.ndarray:
    pipe = PipeStream([sys_python(), "-m", "harness.agent", "--models", str(cache_dir)], cwd=ROOT)
    stream = pipe if reps is None else FilteredStream(pipe, reps[True], reps[False])
    try:
        link = Link(stream, "agent", frame_timeout=2.0, retries=5, window=64)
        link.hello(30)
        agent = AgentClient(link, stream, "agent")
        agent.load(model)
        outs = [np.empty((len(xs), 10), np.int8)]
        for start in range(0, len(xs), 256):
            agent.run_batch([xs], start, min(len(xs), start + 256), outs, np.zeros(len(xs), np.int64))
        return outs[0]
    finally:
        pipe.close()


def sys_python() -> str:
    import sys

    return sys.executable


@pytest.mark.parametrize("n, delays", RUNS)
def test_late_copies_through_the_linux_agent(tmp_path, n, delays):
    path = ROOT / "models" / "digits_int8.tflite"
    if not path.exists():
        pytest.skip(f"{path} missing (tools/make_models.py generates it)")
    model = path.read_bytes()
    (tmp_path / f"{hashlib.sha256(model).hexdigest()}.tflite").write_bytes(model)
    xs = np.random.default_rng(5).integers(-128, 128, (n, 8, 8, 1), dtype=np.int8)
    want = _agent_run(model, tmp_path, xs)
    reps = replayers(delays)
    got = _agent_run(model, tmp_path, xs, reps)
    assert_copies_delivered(reps, delays)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("n, delays", RUNS)
def test_late_copies_through_qemu(n, delays):
    data = shared_model("tflm/hello_world_int8.tflite").read_bytes()
    want, xs = clean_qemu_run(data, n, seed=3)
    reps = replayers(delays)
    with proxied_qemu(rate=0.0, replay=reps) as d:
        d.open()
        d.load(data, "hello_world")
        got = d.run(xs)
    assert_copies_delivered(reps, delays)
    assert np.array_equal(got.outputs[0], want.outputs[0])
    assert not (got.ticks - want.ticks).any()
    print(f"qemu: {got.retries} retries; copies to target {reps[True].copies}, to host {reps[False].copies}")
