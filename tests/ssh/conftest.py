"""A real OpenSSH server on 127.0.0.1 for the whole session, and target files pointing at it.

The remote python is this machine's interpreter (fast) unless a test asks for the rpi4-emu one
(aarch64 under qemu-aarch64-static, built once under .cache/rpi4-emu/).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.core.config import TargetConfig

ROOT = Path(__file__).resolve().parents[2]

from tools import loopback_sshd, rpi4_emu


def pytest_collection_modifyitems(items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.ssh)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    server = loopback_sshd.LoopbackSshd(tmp_path_factory.mktemp("sshd"))
    try:
        server.start()
    except RuntimeError as e:
        pytest.skip(f"cannot start a loopback sshd: {e}")
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_hb_env(monkeypatch):
    """HB_* variables from a make invocation must not leak into the tests' target files."""
    import os

    for k in [k for k in os.environ if k.startswith("HB_")]:
        monkeypatch.delenv(k)


@pytest.fixture(scope="session")
def emu_python() -> str:
    """The rpi4-emu interpreter (built on first use, then cached)."""
    try:
        return str(rpi4_emu.build())
    except SystemExit as e:  # the builder's one-line reason, as a test failure (not a pytest exit)
        pytest.fail(f"rpi4-emu build failed: {e}")


@pytest.fixture
def make_target(sshd, tmp_path):
    """TargetConfig factory for the loopback sshd; options override the defaults."""

    def make(**options) -> TargetConfig:
        st = sshd.state()
        opts = {"host": st["host"], "port": st["port"], "user": st["user"], "key_file": st["key_file"],
                "known_hosts": st["known_hosts"], "remote_dir": str(tmp_path / "remote"),
                "python": sys.executable, "ssh_config": str(tmp_path / "no-ssh-config"), "connect_timeout": 5}
        opts.update(options)
        return TargetConfig(kind="ssh", name="loopback", path=str(tmp_path / "loopback.yaml"), options=opts)

    return make
