"""Connection errors are one line that says what to do: host keys, auth, unreachable."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from harness.drivers.ssh import conn as ssh_conn
from harness.drivers.ssh.options import resolve
from harness.errors import ConfigError, LinkError, TargetError


def _connect(target):
    client = ssh_conn.connect(resolve(target))
    client.close()


def test_known_key_connects(make_target):
    _connect(make_target())


def test_unknown_key_refused_by_default(make_target, tmp_path):
    kh = tmp_path / "empty_known_hosts"
    kh.write_text("")
    with pytest.raises(TargetError, match="unknown host key.*accept_new_host_key"):
        _connect(make_target(known_hosts=str(kh)))
    assert kh.read_text() == ""


def test_unknown_key_accepted_with_opt_in_and_recorded(make_target, sshd, tmp_path):
    kh = tmp_path / "sub" / "known_hosts"
    _connect(make_target(known_hosts=str(kh), accept_new_host_key=True))
    line = kh.read_text().split()
    assert line[0] == f"[127.0.0.1]:{sshd.port}"
    assert line[2] == sshd.host_key.with_suffix(".pub").read_text().split()[1]
    _connect(make_target(known_hosts=str(kh)))  # now known: no opt-in needed


def test_changed_key_always_refused(make_target, sshd, tmp_path):
    other = ssh_conn_key(tmp_path)
    kh = tmp_path / "known_hosts"
    kh.write_text(f"[127.0.0.1]:{sshd.port} {other}\n")
    with pytest.raises(TargetError, match="HOST KEY CHANGED.*ssh-keygen -R"):
        _connect(make_target(known_hosts=str(kh), accept_new_host_key=True))
    assert kh.read_text().count("\n") == 1


def ssh_conn_key(tmp_path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    return " ".join((tmp_path / "other.pub").read_text().split()[:2])


def test_auth_failure(make_target, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "stranger")], check=True)
    with pytest.raises(TargetError, match="authentication failed.*ssh-copy-id"):
        _connect(make_target(key_file=str(tmp_path / "stranger")))


def test_refused_port_is_one_line(make_target):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        with pytest.raises(LinkError, match=f"127.0.0.1:{port}: cannot connect") as e:
            _connect(make_target(port=port))
    assert "\n" not in str(e.value)


def test_silent_port_times_out_within_connect_timeout(make_target):
    with socket.socket() as s:  # listening but never speaks SSH: the banner never comes
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        t0 = time.monotonic()
        with pytest.raises(LinkError, match="within 1 s"):
            _connect(make_target(port=s.getsockname()[1], connect_timeout=1))
        assert time.monotonic() - t0 < 4


def test_env_overrides_file(make_target, monkeypatch):
    monkeypatch.setenv("HB_PORT", "1")
    monkeypatch.setenv("HB_ACCEPT_NEW_HOST_KEY", "yes")
    o = resolve(make_target())
    assert o.port == 1 and o.accept_new_host_key is True
    monkeypatch.setenv("HB_THREADS", "many")
    with pytest.raises(ConfigError, match="HB_THREADS"):
        resolve(make_target())


def test_ssh_config_is_honoured(make_target, sshd, tmp_path):
    cfg = tmp_path / "ssh_config"
    cfg.write_text(f"Host mypi\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.state()['user']}\n")
    o = resolve(make_target(host="mypi", port=None, user=None, ssh_config=str(cfg)))
    assert (o.host, o.port) == ("127.0.0.1", sshd.port)
    _connect(make_target(host="mypi", port=None, user=None, ssh_config=str(cfg)))
