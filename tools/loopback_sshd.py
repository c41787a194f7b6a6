"""A real OpenSSH server on 127.0.0.1 at a free port, with its own host key and client key.

Used by tests/ssh (one per session) and by tools/rpi4_emu.py (for `make bench TARGET=rpi4-emu`).
Nothing here touches the system's sshd: own config, keys, pid file, authorized_keys.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

SSHD = shutil.which("sshd", path="/usr/sbin:/usr/bin:/sbin") or "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path, kind: str = "ed25519") -> Path:
    """A fresh passphrase-less key pair at path / path.pub."""
    for p in (path, path.with_suffix(".pub")):
        p.unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "harness-test", "-f", str(path)],
                   check=True, capture_output=True)
    return path


class LoopbackSshd:
    """sshd -D on loopback. start() returns the facts a target file needs (host, port, keys)."""

    def __init__(self, state_dir: Path, env: dict[str, str] | None = None) -> None:
        self.dir = Path(state_dir).resolve()
        self.env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def _prepare(self) -> None:
        if not os.path.exists(SSHD):
            raise RuntimeError("sshd missing; run: apt-get install -y openssh-server")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.host_key = self.dir / "host_ed25519"
        self.client_key = self.dir / "client_ed25519"
        if not self.host_key.exists():
            keygen(self.host_key)
        if not self.client_key.exists():
            keygen(self.client_key)
        (self.dir / "authorized_keys").write_text(self.client_key.with_suffix(".pub").read_text())
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)  # privsep chroot dir
        self.port = free_port()
        pub = self.host_key.with_suffix(".pub").read_text().split()
        # what a user who already trusts this host has; tests make their own variants
        (self.dir / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {pub[0]} {pub[1]}\n")
        self._write_config()

    def _write_config(self) -> None:
        # the login shell's rc files may rewrite PATH: remote programs are named by absolute path
        setenv = " ".join(f'{k}="{v}"' for k, v in self.env.items())
        (self.dir / "sshd_config").write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.host_key}",
            f"PidFile {self.dir / 'sshd.pid'}", f"AuthorizedKeysFile {self.dir / 'authorized_keys'}",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
            "StrictModes no", "PermitRootLogin prohibit-password", "UseDNS no",
            "Subsystem sftp internal-sftp", "MaxStartups 64", "MaxSessions 32", "LogLevel ERROR",
            "PrintMotd no", "ClientAliveInterval 0", f"SetEnv {setenv}" if setenv else "", ""]))

    def start(self, detach: bool = False) -> dict:
        """Start sshd and wait until it accepts connections."""
        self._prepare()
        log = open(self.dir / "sshd.log", "ab")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.dir / "sshd_config")],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=detach)
        log.close()
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.dir / 'sshd.log').read_text()[-1000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self.state()
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not listen within 10 s")

    def state(self) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "user": getpass.getuser(),
                "key_file": str(self.client_key), "known_hosts": str(self.dir / "known_hosts"),
                "host_key_pub": str(self.host_key.with_suffix(".pub")), "pid": self.proc.pid if self.proc else 0}

    def session_pids(self) -> list[int]:
        """The per-connection sshd processes (children of the listener): kill one to cut a link."""
        if not self.proc:
            return []
        kids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                kids.append(int(stat.parent.name))
        return kids

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            for pid in self.session_pids():
                _kill(pid)
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @staticmethod
    def stop_pid(pid: int) -> None:
        """Stop a detached sshd started by an earlier process (tools/rpi4_emu.py stop)."""
        if pid > 0:
            _kill(pid, signal.SIGTERM)

    def __enter__(self) -> "LoopbackSshd":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _kill(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
