"""Fixtures for tests/lab: a real labgrid lab on loopback (harness/locallab/lab.py) and targets on it.

Every lab is a module fixture: started once, stopped at the end, and the end checks that no
process of it (coordinator, exporters, board daemons, QEMU, ser2net) is left.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

from harness.core.config import TargetConfig
from harness.drivers import driver_class
from harness.locallab.lab import LocalLab
from tests.mcu.mcu_util import random_inputs, tflm_outputs  # noqa: F401 (re-exported for the tests)

MODEL = ROOT / "models" / "ops" / "conv2d_valid_s1.tflite"  # ~25 ms an inference over the emulated link


def need_lab_tools() -> None:
    for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (make test installs it)")
    if shutil.which("ser2net") is None and not Path("/usr/sbin/ser2net").exists():
        pytest.skip("ser2net not installed (apt-get install ser2net; make test installs it)")


def start_lab(boards, services=()) -> LocalLab:
    need_lab_tools()
    return LocalLab(tuple(boards), tuple(services), say=lambda _msg: None).start()


def stop_lab(lab: LocalLab) -> None:
    lab.stop()
    left = lab.leftovers()
    assert not left, f"processes of the lab left running: {left}"


def lab_target(lab: LocalLab, place: str, state: Path, **options) -> TargetConfig:
    opts = {"place": place, "coordinator": lab.coordinator, "state_dir": str(state), **options}
    return TargetConfig(kind="labgrid", name=place, options=opts)


def open_driver(lab: LocalLab, place: str, state: Path, **options):
    t = lab_target(lab, place, state, **options)
    return driver_class("labgrid")(t)


def target_file(path: Path, lab: LocalLab, place: str, state: Path, **options) -> Path:
    t = lab_target(lab, place, state, **options)
    path.write_text(yaml.safe_dump({"kind": "labgrid", "options": t.options}))
    return path


def holder(lab: LocalLab, place: str) -> str | None:
    return lab.client().place(place).acquired


def as_someone_else(lab: LocalLab, place: str, action: str) -> None:
    """`labgrid-client acquire/release` as another user (LG_USERNAME), like a colleague or CI job."""
    env = {**os.environ, "LG_USERNAME": "colleague"}
    r = subprocess.run([sys.executable, "-m", "labgrid.remote.client", "-x", lab.coordinator, "-p", place, action],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def wait_for(cond, timeout: float, what: str, poll: float = 0.2):
    """cond()'s first truthy value, checked every `poll` s (short where a test must act at once)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(poll)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


def batches(results: Path) -> int:
    """Batch lines in the journals under a results folder."""
    return sum(p.read_text().count('"event": "batch"') for p in results.rglob("journal.jsonl"))


def cli(*args: str, **kw) -> subprocess.Popen:
    """`python -m harness …` as a user runs it, in its own session (signals go to it alone)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=kw.pop("cwd", ROOT), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)
