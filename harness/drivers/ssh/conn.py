"""The SSH connection to a board: verified host key, one-line errors, and a sha256-keyed file cache.

Host keys: checked against known_hosts; an unknown key is refused unless accept_new_host_key (then
it is recorded, like OpenSSH's StrictHostKeyChecking=accept-new); a changed key is always refused.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shlex
import socket
import time
from pathlib import Path

import paramiko

from ...errors import ConfigError, LinkError, TargetError, UnsupportedModel
from .options import SshOptions

SFTP_ERRORS = (OSError, EOFError, paramiko.SSHException)  # what SFTP raises on a refusal or a dead link


def _where(o: SshOptions) -> str:
    return f"{o.user}@{o.host}:{o.port}"


def _known_name(o: SshOptions) -> str:
    return o.host if o.port == 22 else f"[{o.host}]:{o.port}"


def _policy(o: SshOptions):
    class Policy(paramiko.MissingHostKeyPolicy):
        """Unknown key: refuse, or record it when the target opted in (accept-new)."""

        def missing_host_key(self, client, hostname, key):
            fp = f"{key.get_name()} SHA256:{_fingerprint(key)}"
            if not o.accept_new_host_key:
                raise TargetError(
                    f"{_where(o)}: unknown host key ({fp}), not in {o.known_hosts}; check it, then add it with "
                    f"`ssh -p {o.port} {o.user}@{o.host} true` or set accept_new_host_key: true "
                    f"(HB_ACCEPT_NEW_HOST_KEY=1) to record it on first use")
            path = Path(o.known_hosts)
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            start = "\n" if path.is_file() and not path.read_bytes().endswith(b"\n") and path.stat().st_size else ""
            with open(path, "a", encoding="ascii") as f:
                f.write(f"{start}{_known_name(o)} {key.get_name()} {key.get_base64()}\n")
            client.get_host_keys().add(hostname, key.get_name(), key)

    return Policy()


def _fingerprint(key) -> str:
    import base64

    return base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def _encrypted(o: SshOptions) -> TargetError:
    return TargetError(f"{_where(o)}: key {o.key_file} is encrypted; add it to ssh-agent (`ssh-add {o.key_file}`) "
                       "and leave key_file unset")


def check_key_file(o: SshOptions) -> None:
    """key_file, when set, is a private key we can read: said before connecting, not as a connection error."""
    if o.key_file is None:
        return
    where = f"{o.key_file}: SSH key_file (options.key_file or HB_KEY_FILE)"
    if not Path(o.key_file).is_file():
        what = "is a directory" if Path(o.key_file).is_dir() else "not found"
        raise ConfigError(f"{where} {what}; give the private key's path, or leave it unset to use ssh-agent")
    try:
        paramiko.PKey.from_path(o.key_file)
    except paramiko.PasswordRequiredException:
        raise _encrypted(o) from None
    except TypeError as e:  # cryptography: "Key is password-protected, but password was not provided."
        if "password" in str(e).lower():
            raise _encrypted(o) from None
        raise ConfigError(f"{where} is not a private key ({e})") from None
    except (ValueError, OSError, paramiko.SSHException) as e:
        why = getattr(e, "strerror", None) or str(e).split(".")[0]
        raise ConfigError(f"{where} is not a private key we can read ({why[:100]}); give the private key "
                          "(not the .pub), in OpenSSH or PEM format") from None


def connect(o: SshOptions):
    """A connected paramiko.SSHClient, or one line saying what failed and what to do."""
    check_key_file(o)
    client = paramiko.SSHClient()
    if Path(o.known_hosts).is_file():
        try:
            client.load_host_keys(o.known_hosts)
        except Exception as e:  # paramiko's own parse errors carry no file name
            raise TargetError(f"{o.known_hosts}: cannot read known hosts ({e})") from None
    client.set_missing_host_key_policy(_policy(o))
    t, t0 = o.connect_timeout, time.monotonic()
    try:
        client.connect(o.host, port=o.port, username=o.user, key_filename=o.key_file, timeout=t,
                       banner_timeout=t, auth_timeout=t, allow_agent=o.key_file is None,
                       look_for_keys=o.key_file is None)
    except paramiko.BadHostKeyException as e:
        client.close()
        raise TargetError(
            f"{_where(o)}: HOST KEY CHANGED (now {e.key.get_name()} SHA256:{_fingerprint(e.key)}, {o.known_hosts} "
            f"has another): refusing to connect; if the board was reinstalled, remove the old key with "
            f"`ssh-keygen -R '{_known_name(o)}' -f {o.known_hosts}`") from None
    except paramiko.PasswordRequiredException:
        client.close()
        raise _encrypted(o) from None
    except paramiko.AuthenticationException:
        client.close()
        how = f"key {o.key_file}" if o.key_file else "ssh-agent and ~/.ssh/id_* keys"
        raise TargetError(f"{_where(o)}: authentication failed ({how}); check user (HB_USER) and install the key with "
                          f"`ssh-copy-id -p {o.port} {o.user}@{o.host}`") from None
    except socket.gaierror as e:
        client.close()
        raise LinkError(f"{_where(o)}: unknown host name ({e.strerror}); check host in the target file or HOST=… "
                        "(HB_HOST)") from None
    except (socket.timeout, TimeoutError):
        client.close()
        raise LinkError(f"{_where(o)}: unreachable, no answer within {t:g} s (connect_timeout); "
                        "is the board on and the host name right?") from None
    except TargetError:
        client.close()
        raise
    except (OSError, paramiko.SSHException) as e:
        client.close()
        if time.monotonic() - t0 >= t * 0.9:  # e.g. a port that accepts but never sends the SSH banner
            raise LinkError(f"{_where(o)}: unreachable, no SSH answer within {t:g} s (connect_timeout); "
                            "is that sshd's port?") from None
        raise LinkError(f"{_where(o)}: cannot connect ({_reason(e)}); is sshd running there?") from None
    client.get_transport().set_keepalive(5)
    return client


def _reason(e: BaseException) -> str:
    errors = getattr(e, "errors", None)  # NoValidConnectionsError: {addr: OSError}
    if errors:
        e = next(iter(errors.values()))
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


def run(client, command: str, timeout: float = 60.0) -> tuple[int, str, str]:
    """One short remote command (setup only, never per inference): exit status, stdout, stderr."""
    chan = client.get_transport().open_session(timeout=timeout)
    chan.settimeout(timeout)
    chan.exec_command(command)
    out, err = chan.makefile("rb").read(), chan.makefile_stderr("rb").read()
    rc = chan.recv_exit_status()
    chan.close()
    return rc, out.decode(errors="replace"), err.decode(errors="replace")

PUT_STEP = 256 << 10  # bytes per SFTP write: progress moves during a large upload


class RemoteCache:
    """Files under remote_dir named by content (sha256): what is already there is never re-sent."""

    def __init__(self, client, o: SshOptions) -> None:
        self.client, self.o = client, o
        self.root = o.remote_dir
        try:
            self.sftp = client.open_sftp()
        except SFTP_ERRORS as e:
            raise self._error(e, "opening SFTP") from None
        d = o.remote_dir
        if d == "~" or d.startswith("~/"):
            d = self.sftp.normalize(".") + d[1:]
        self.root = d.rstrip("/")
        self.sent = 0  # bytes uploaded through this cache
        self.uploaded = None  # called with (bytes sent, bytes in all) as an upload goes on (drivers/base.Watcher)

    def mkdirs(self, path: str) -> None:
        parts, cur = path.strip("/").split("/"), ""
        for p in parts:
            cur += "/" + p
            try:
                self.sftp.stat(cur)
            except FileNotFoundError:
                self.sftp.mkdir(cur, 0o700)

    def has(self, path: str, size: int | None = None) -> bool:
        try:
            st = self.sftp.stat(path)
        except (FileNotFoundError, OSError):
            return False
        return size is None or st.st_size == size

    def put(self, data: bytes, path: str) -> int:
        """Upload atomically (temporary name, then rename): a cut upload never looks cached."""
        self.mkdirs(path.rsplit("/", 1)[0])
        tmp = f"{path}.{os.getpid()}-{secrets.token_hex(4)}.part"  # concurrent runs never share one
        with self.sftp.open(tmp, "wb") as f:
            f.set_pipelined(True)
            for o in range(0, max(len(data), 1), PUT_STEP):
                if self.uploaded is not None:
                    self.uploaded(o, len(data))
                f.write(data[o:o + PUT_STEP])
        if self.uploaded is not None:
            self.uploaded(len(data), len(data))
        self.sftp.posix_rename(tmp, path)
        self.sent += len(data)
        return len(data)

    def free_bytes(self) -> int:
        """Free space where remote_dir is (its nearest existing parent)."""
        self.mkdirs(self.root)
        rc, out, err = run(self.client, f"df -Pk -- {shlex.quote(self.root)}", timeout=self.o.connect_timeout * 3)
        try:
            return int(out.strip().splitlines()[-1].split()[3]) * 1024
        except (IndexError, ValueError):
            raise TargetError(f"{_where(self.o)}: cannot read free space of {self.root} ({err.strip() or out.strip()})") from None

    def model(self, data: bytes, name: str) -> tuple[str, int]:
        """The remote path of a model (uploaded unless cached) and the bytes sent for it."""
        try:
            return self._model(data, name)
        except SFTP_ERRORS as e:
            raise self._error(e, f"uploading {name}") from None

    def _error(self, e: BaseException, what: str) -> Exception:
        """A broken link (LinkError: the run reconnects) or a remote refusal (TargetError)."""
        t = self.client.get_transport()
        if t is None or not t.is_active() or isinstance(e, (EOFError, paramiko.SSHException)):
            return LinkError(f"{_where(self.o)}: the SSH link broke while {what} ({type(e).__name__}: {e})")
        return TargetError(f"{_where(self.o)}: {what} into {self.root} failed ({getattr(e, 'strerror', None) or e}); "
                           "check that remote_dir is writable")

    def _model(self, data: bytes, name: str) -> tuple[str, int]:
        path = f"{self.root}/models/{hashlib.sha256(data).hexdigest()}.tflite"
        if self.has(path, len(data)):
            return path, 0
        free = self.free_bytes()
        if len(data) + (8 << 20) > free:
            raise UnsupportedModel(f"{name}: model too big for the remote disk ({len(data)} bytes, "
                                   f"{free} free in {self.root} on {self.o.host}); free space or set remote_dir")
        return path, self.put(data, path)

    def agent(self, files: dict[str, bytes]) -> tuple[str, int]:
        """The remote folder holding the agent's files (harness/agent/… and the stdlib-only modules it
        imports: harness.agent.SHIPPED), uploaded unless this exact version is there."""
        try:
            return self._agent(files)
        except SFTP_ERRORS as e:
            raise self._error(e, "uploading the agent") from None

    def _agent(self, files: dict[str, bytes]) -> tuple[str, int]:
        h = hashlib.sha256()
        for rel in sorted(files):
            h.update(rel.encode() + b"\0" + files[rel] + b"\0")
        base = f"{self.root}/agent-{h.hexdigest()[:16]}"
        if self.has(f"{base}/.complete"):
            return base, 0
        sent = sum(self.put(data, f"{base}/{rel}") for rel, data in sorted(files.items()))
        with self.sftp.open(f"{base}/.complete", "wb") as f:
            f.write(b"ok\n")
        return base, sent

    def close(self) -> None:
        try:
            self.sftp.close()
        except Exception:  # the link may already be gone; closing must not raise
            pass


def agent_command(o: SshOptions, agent_dir: str, models_dir: str) -> str:
    """The one exec that starts the agent; every part is shell-quoted."""
    parts = ["taskset", "-c", str(o.cpu_pin)] if o.cpu_pin is not None else []
    parts += [o.python, "-u", "-B", "-m", "harness.agent", "--runtime", o.runtime, "--kernels", o.kernels,
              "--threads", str(o.threads), "--models", models_dir]
    return f"cd {shlex.quote(agent_dir)} && exec " + " ".join(shlex.quote(p) for p in parts)

