"""kind labgrid against a real coordinator/exporter on loopback: acquire/release, someone else's lock,
a stale build flashed, a board reset and a hung board mid-run, Ctrl-C and SIGKILL of a run, and a
Linux board behind a NetworkService.

One lab for the module (~10 s to start): two emulated Cortex-M4 boards on one exporter, one behind
a real ser2net RFC 2217 port on a pty, one on raw TCP starting with another build; on a second
exporter a NetworkService pointing at a real OpenSSH sshd on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest

from harness.drivers.labgrid.client import PlaceBusy, identity
from harness.locallab.lab import BoardSpec, ServiceSpec
from tools import loopback_sshd

from .conftest import (
    MODEL,
    ROOT,
    as_someone_else,
    batches,
    cli,
    holder,
    open_driver,
    random_inputs,
    start_lab,
    stop_lab,
    target_file,
    tflm_outputs,
    wait_for,
)

pytestmark = [pytest.mark.lab, pytest.mark.qemu]
RFC, RAW, PI = "t-m4-rfc", "t-m4-raw", "t-pi"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """A real OpenSSH sshd on 127.0.0.1 for the NetworkService place (None if it cannot start)."""
    server = loopback_sshd.LoopbackSshd(tmp_path_factory.mktemp("sshd"))
    try:
        server.start()
    except RuntimeError:
        yield None
        return
    yield server.state()
    server.stop()


@pytest.fixture(scope="module")
def lab(sshd):
    services = [ServiceSpec(PI, sshd["host"], sshd["user"], sshd["port"], exporter="t-exp2",
                            tags=(("board", "rpi4"),))] if sshd else []
    local = start_lab([BoardSpec(RFC, serial="rfc2217", exporter="t-exp1"),
                       BoardSpec(RAW, serial="raw", exporter="t-exp1", firmware="stale")], services)
    yield local
    stop_lab(local)


def _exact(d, n: int, batch: int = 50) -> None:
    """Load MODEL, run n seeded inputs in batches like bench does; every byte equal to TFLM's."""
    data = MODEL.read_bytes()
    li = d.load(data, MODEL.stem)
    xs = random_inputs(li.inputs, n, seed=7)
    outs = [d.run([x[i:i + batch] for x in xs]).outputs[0] for i in range(0, n, batch)]
    got, want = np.concatenate(outs), tflm_outputs(data, xs)[0]
    assert np.array_equal(got, want), f"{np.sum(got != want)} of {got.size} bytes differ from TFLM"


def test_acquire_run_release_over_rfc2217(lab, tmp_path):
    d = open_driver(lab, RFC, tmp_path)
    with d:
        info = d.open()
        assert holder(lab, RFC) == identity()
        assert info.facts["url"].startswith("rfc2217://127.0.0.1:") and info.kind == "labgrid"
        assert info.time_unit == "instructions" and info.facts["place"] == RFC and not info.facts["flashed"]
        _exact(d, 20)
        assert list(tmp_path.rglob("*.json")), "the place record is kept while we hold the place"
    assert holder(lab, RFC) is None
    assert not list(tmp_path.rglob("*.json")), "the record goes with the release"


def test_other_build_is_flashed_through_the_board(lab, tmp_path):
    with open_driver(lab, RAW, tmp_path) as d:
        info = d.open()
        build = d._firmware().build
        assert len(info.facts["flashed"]) == 1 and f"this tree's is {build}" in info.facts["flashed"][0]
        assert info.facts["build"] == build
        _exact(d, 10)


def test_place_held_by_someone_else_waits_then_times_out(lab, tmp_path):
    as_someone_else(lab, RFC, "acquire")
    try:
        t0 = time.monotonic()
        with pytest.raises(PlaceBusy) as e, open_driver(lab, RFC, tmp_path, acquire_timeout=2) as d:
            d.open()
        took = time.monotonic() - t0
        assert 2 <= took < 30, took
        msg = str(e.value)
        assert "acquired by" in msg and "/colleague" in msg and "not released within 2 s" in msg
        assert f"labgrid-client -p {RFC} release" in msg
        threading.Timer(3.0, as_someone_else, (lab, RFC, "release")).start()
        t0 = time.monotonic()
        with open_driver(lab, RFC, tmp_path, acquire_timeout=60) as d:
            d.open()
            assert holder(lab, RFC) == identity() and time.monotonic() - t0 >= 2.5
    finally:
        if holder(lab, RFC) and holder(lab, RFC).endswith("/colleague"):
            as_someone_else(lab, RFC, "release")
    assert holder(lab, RFC) is None


def _board(lab, place: str, action: str) -> None:
    url = f"http://127.0.0.1:{lab.ports[place]['http']}/{action}"
    urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST"), timeout=10).read()


def test_board_reset_and_hang_mid_run(lab, tmp_path):
    """A core reset (firmware reboots) is healed by the mcu driver; a frozen board is power-cycled
    through labgrid (simplerest NetworkPowerPort) and the batch runs again: outputs stay exact."""
    d = open_driver(lab, RAW, tmp_path, power_delay=0.2, mcu={"frame_timeout": 0.2, "retries": 5})
    with d:
        d.open()
        timers = [threading.Timer(0.7, _board, (lab, RAW, "reset")), threading.Timer(2.0, _board, (lab, RAW, "hang"))]
        for t in timers:
            t.start()
        _exact(d, 250)
        for t in timers:
            t.join()
        assert d.inner.reboots >= 1, "the reset was not seen mid-run"
        assert d.recoveries == 1, "the hung board was not power-cycled exactly once"


def test_ctrl_c_releases_the_place(lab, tmp_path):
    target = target_file(tmp_path / "t.yaml", lab, RFC, tmp_path / "state")
    p = cli("bench", "--target", str(target), "--models", str(MODEL), "--runs", "400", "--results", str(tmp_path))
    wait_for(lambda: batches(tmp_path) >= 1 or p.poll() is not None, 60, "a first batch")
    assert holder(lab, RFC) == identity()
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130 and "interrupted" in err, err
    assert holder(lab, RFC) is None
    assert not list((tmp_path / "state").rglob("*.json"))


def test_killed_run_leaves_a_stale_lock_that_the_next_start_reports(lab, tmp_path):
    target = target_file(tmp_path / "t.yaml", lab, RFC, tmp_path / "state")
    p = cli("bench", "--target", str(target), "--models", str(MODEL), "--runs", "400", "--results", str(tmp_path))
    wait_for(lambda: batches(tmp_path) >= 1 or p.poll() is not None, 60, "a first batch")
    os.killpg(p.pid, signal.SIGKILL)
    p.communicate(timeout=30)
    assert holder(lab, RFC) == identity(), "a SIGKILLed run cannot release"
    record = json.loads(next((tmp_path / "state").rglob("*.json")).read_text())
    assert record["pid"] == p.pid
    with open_driver(lab, RFC, tmp_path / "state") as d:
        info = d.open()
        notes = info.facts["lock_notes"]
        assert len(notes) == 1 and f"stale lock: labgrid place {RFC} was acquired by harness pid {p.pid}" in notes[0]
        assert holder(lab, RFC) == identity()
    assert holder(lab, RFC) is None


def test_networkservice_place_runs_the_ssh_driver(lab, sshd, tmp_path):
    """The remote python is this machine's (as in tests/ssh); reference kernels equal TFLM."""
    if sshd is None:
        pytest.skip("cannot start a loopback sshd")
    ssh = {"key_file": sshd["key_file"], "known_hosts": sshd["known_hosts"], "python": sys.executable,
           "remote_dir": str(tmp_path / "remote"), "ssh_config": str(tmp_path / "none"), "connect_timeout": 10,
           "kernels": "reference"}
    with open_driver(lab, PI, tmp_path, flash="never", ssh=ssh) as d:
        info = d.open()
        assert holder(lab, PI) == identity() and info.facts["transport"] == "ssh"
        assert info.facts["host"] == "127.0.0.1" and info.time_unit == "ns" and info.kind == "labgrid"
        data = MODEL.read_bytes()
        li = d.load(data, MODEL.stem)
        xs = random_inputs(li.inputs, 10, seed=3)
        assert np.array_equal(d.run(xs).outputs[0], tflm_outputs(data, xs)[0])
    assert holder(lab, PI) is None
