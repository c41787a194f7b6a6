"""Error paths: a board that never says HELLO (timeout names the URL), noise, ERROR replies,
bad options, and QEMU torn down on every way out (close, exceptions, a killed parent)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from harness.core.config import TargetConfig
from harness.drivers import driver_class
from harness.errors import ConfigError, LinkError, TargetError, TargetTimeout, UnsupportedModel
from harness.protocol.noise import LinkTooNoisy
from tests.mcu.mcu_util import ROOT, qemu_driver, wait_until


def _driver(kind: str, **options):
    return driver_class(kind)(TargetConfig(kind=kind, name=f"t-{kind}", options=options))


def test_board_that_never_says_hello_names_the_url():
    with _driver("mcu", url="loop://", hello_timeout=1.0) as d:  # echoes our own requests back
        with pytest.raises(TargetTimeout, match=r"loop://: no HELLO within 1 s; check .*URL"):
            d.open()


@pytest.mark.parametrize("mode, error, says", [
    ("silent", TargetTimeout, r"no HELLO within 0\.5 s; check that the board is powered"),
    ("garbage", LinkTooNoisy, r"no HELLO within 0\.5 s, but \d+ damaged frames arrived: the target answers and "
                              r"the link is too noisy; check the cable, baud rate")])
def test_fake_targets_that_never_answer(mode, error, says):
    with _driver("fake", mode=mode, hello_timeout=0.5) as d:
        with pytest.raises(error, match=rf"^fake://{mode}: {says}"):
            d.open()


def test_error_frames_become_one_line_errors():
    with _driver("fake", mode="error", error_text="unsupported op FOO at node 3") as d:
        info = d.open()
        assert info.board == "fake" and info.time_unit == "ns"
        with pytest.raises(UnsupportedModel, match=r"^m\.tflite: fake://error: LOAD_BEGIN: unsupported op FOO at "
                                                   r"node 3 \[UNSUPPORTED\]$"):
            d.load(b"TFL3" * 10, "m.tflite")
    with _driver("fake", mode="error", error_code=16, error_text="bad") as d:
        d.open()
        with pytest.raises(TargetError, match=r"\[BAD_REQUEST\]$"):
            d.load(b"x", "m.tflite")


def test_options_are_validated():
    with pytest.raises(ConfigError, match=r"unknown key 'baudrate'; allowed: .*baud"):
        _driver("mcu", url="loop://", baudrate=9600)
    with pytest.raises(ConfigError, match=r"options\.window: expected int"):
        _driver("mcu", url="loop://", window="eight")
    with pytest.raises(LinkError, match=r"options\.url is empty"):
        _driver("mcu").open()
    with pytest.raises(LinkError, match=r"cannot open /dev/ttyHB_NONE"):
        _driver("mcu", url="/dev/ttyHB_NONE").open()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is not alive
        return f.read().split()[2] != "Z"


def test_qemu_is_torn_down_on_close_and_on_errors():
    d = qemu_driver()
    d.open()
    pid = d.proc.pid
    d.close()
    d.close()  # twice is fine
    assert not _alive(pid)
    with pytest.raises(RuntimeError):
        with qemu_driver() as d:
            d.open()
            pid = d.proc.pid
            raise RuntimeError("boom")
    assert not _alive(pid)
    with pytest.raises(TargetError, match="not found"):
        qemu_driver(elf="/nonexistent.elf").open()


def test_qemu_dies_with_a_killed_harness():
    code = textwrap.dedent("""
        import time
        from tests.mcu.mcu_util import qemu_driver
        d = qemu_driver()
        d.open()
        print(d.proc.pid, flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=os.environ, cwd=ROOT)
    pid = int(child.stdout.readline())
    assert _alive(pid)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert wait_until(lambda: not _alive(pid), 5), "QEMU outlived its harness"


def test_qemu_that_exits_mid_run_says_so():
    import numpy as np

    from tests.common import shared_model

    with qemu_driver(frame_timeout=0.2, retries=2) as d:
        d.open()
        d.load(shared_model("tflm/hello_world_int8.tflite").read_bytes(), "hello_world")
        d.monitor("quit")
        with pytest.raises(TargetError, match=r"QEMU exited with status 0"):
            d.run([np.zeros((5, 1), np.int8)])
