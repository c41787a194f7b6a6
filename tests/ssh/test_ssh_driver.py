"""The ssh driver end to end over a real sshd: cache, hostile names, a cut link mid-run."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from harness.drivers import driver_class
from harness.drivers.ssh import conn as ssh_conn
from harness.protocol.client import TargetClient
from harness.errors import TargetError, UnsupportedModel

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "models" / "digits_int8.tflite"


def _model() -> bytes:
    if not DIGITS.exists():
        pytest.skip(f"{DIGITS} missing (tools/make_models.py generates it)")
    return DIGITS.read_bytes()


def _inputs(load, n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, (n, *t.shape[1:]), dtype=np.int8) for t in load.inputs]


def _driver(target):
    return driver_class("ssh")(target)


@pytest.mark.parametrize("kernels", ["optimized", "reference", "xnnpack"])
def test_open_load_run(make_target, kernels):
    with _driver(make_target(kernels=kernels)) as d:
        info = d.open()
        assert info.time_unit == "ns" and info.facts["python"] and info.facts["emulated"] == ""
        assert info.facts["kernels"] == kernels
        load = d.load(_model(), "digits")
        res = d.run(_inputs(load, 5))
        assert res.outputs[0].shape[0] == 5 and (res.ticks > 0).all()


def test_second_load_sends_nothing(make_target):
    target = make_target()
    with _driver(target) as d:
        d.open()
        first = d.load(_model(), "digits")
        assert first.facts["uploaded_bytes"] == len(_model())
    with _driver(target) as d:  # a new run: agent and model both cached on the board
        d.open()
        assert d.facts_sent["agent"] == 0
        again = d.load(_model(), "digits")
        assert again.facts["uploaded_bytes"] == 0 and again.sha256 == first.sha256


def test_hostile_model_name_runs_nothing(make_target, sshd, tmp_path):
    remote = tmp_path / "remote"
    home = Path.home()
    before = {p for p in (home / "x", remote / "x", Path("/x"), Path.cwd() / "x") if p.exists()}
    with _driver(make_target(remote_dir=str(remote))) as d:
        d.open()
        d.load(_model(), "$(touch x).tflite")
    after = {p for p in (home / "x", remote / "x", Path("/x"), Path.cwd() / "x") if p.exists()}
    assert after == before
    assert not list(remote.rglob("x")) and not list(remote.rglob("*touch*"))


def test_missing_runtime_says_how_to_install(make_target):
    with _driver(make_target(runtime="ai-edge-litert")) as d:
        try:
            import ai_edge_litert  # noqa: F401
            pytest.skip("ai-edge-litert is installed here")
        except ImportError:
            pass
        with pytest.raises(TargetError, match="ai-edge-litert.*pip install --user"):
            d.open()


def test_reconnect_after_sshd_session_killed(make_target, sshd, monkeypatch):
    model = _model()
    with _driver(make_target()) as d:
        d.open()
        load = d.load(model, "digits")
        x = _inputs(load, 1500, seed=1)
        clean = d.run(x)
    others = set(sshd.session_pids())  # sessions of other tests that may still be closing
    with _driver(make_target()) as d:
        d.open()
        d.load(model, "digits")
        ours = set(sshd.session_pids()) - others
        assert ours, "no sshd session process of ours to kill"
        batches, killed = [], []
        real_batch = TargetClient.run_batch

        def run_batch(self, rows, start, stop, outs, ticks, op_ticks=None):
            batches.append(start)
            if len(batches) == 4:  # mid-run: the sshd process serving this connection dies
                for pid in ours:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            return real_batch(self, rows, start, stop, outs, ticks, op_ticks)

        monkeypatch.setattr(TargetClient, "run_batch", run_batch)
        res = d.run(x)
        assert killed and d.reconnects == 1 and res.retries >= 1 and clean.retries == 0
        assert batches.count(batches[3]) == 2  # the cut batch ran again, the finished ones did not
    for a, b in zip(clean.outputs, res.outputs):
        np.testing.assert_array_equal(a, b)


def test_tensors_for_per_layer(make_target):
    with _driver(make_target(kernels="reference")) as d:
        d.open()
        load = d.load(_model(), "digits")
        x = _inputs(load, 3, seed=2)
        res = d.run(x)
        tensors = d.tensors([a[1:2] for a in x])
        assert len(tensors) > 5
        out = [t for t in tensors.values() if t.size == res.outputs[0][1].size and t.dtype == res.outputs[0].dtype]
        assert any(np.array_equal(t.reshape(-1), res.outputs[0][1].reshape(-1)) for t in out)
        again = d.run(x)  # planned back without preserve-all: same outputs
        np.testing.assert_array_equal(again.outputs[0], res.outputs[0])


def test_link_cut_before_load_reconnects(make_target, sshd):
    with _driver(make_target()) as d:
        d.open()
        for pid in sshd.session_pids():
            os.kill(pid, signal.SIGKILL)
        load = d.load(_model(), "digits")
        assert d.reconnects == 1
        assert d.run(_inputs(load, 3)).outputs[0].shape[0] == 3


def test_model_too_big_for_the_remote_disk(make_target, monkeypatch):
    monkeypatch.setattr(ssh_conn.RemoteCache, "free_bytes", lambda self: 4096)
    with _driver(make_target()) as d:
        d.open()
        with pytest.raises(UnsupportedModel, match="model too big for the remote disk"):
            d.load(_model(), "digits")


def test_cpu_pin_runs_the_agent_on_one_core(make_target):
    with _driver(make_target(cpu_pin=0, threads=1)) as d:
        assert d.open().facts["affinity"] == [0]


def test_missing_python_is_a_clear_error(make_target):
    with _driver(make_target(python="/nonexistent/python3")) as d:
        t0 = time.monotonic()
        with pytest.raises(TargetError, match="the agent did not start.*/nonexistent/python3.*(not found|No such)"):
            d.open()
        assert time.monotonic() - t0 < 10
