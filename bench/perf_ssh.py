"""SSH transport costs over a real loopback sshd, measured side by side in one run.

1. Agent round trip per inference (host harness time per inference − on-device invoke() time),
   goal ≤ 0.3 ms, on the project's digits model with this machine's python as the remote one.
2. Model push: SFTP (what load() uses) vs the raw SSH channel (`cat > file`), same bytes.

    python -m bench.perf_ssh          # or as a section of `make perf`
"""

from __future__ import annotations

import hashlib
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from harness.core.config import TargetConfig
from harness.drivers import driver_class
from harness.drivers.ssh import conn as ssh_conn
from harness.drivers.ssh.options import resolve
from tools.loopback_sshd import LoopbackSshd

MODEL = ROOT / "models" / "digits_int8.tflite"
PUSH_MB = 32


def _target(state: dict, remote: str) -> TargetConfig:
    opts = {"host": state["host"], "port": state["port"], "user": state["user"], "key_file": state["key_file"],
            "known_hosts": state["known_hosts"], "remote_dir": remote, "python": sys.executable,
            "ssh_config": "/nonexistent"}
    return TargetConfig(kind="ssh", name="loopback", path="bench/perf_ssh.py", options=opts)


def round_trip(target: TargetConfig, n: int = 2000) -> None:
    """Host wall time per inference in run() minus the device's own invoke() time."""
    data = MODEL.read_bytes()
    with driver_class("ssh")(target) as d:
        d.open()
        load = d.load(data, MODEL.stem)
        rng = np.random.default_rng(0)
        x = [rng.integers(-128, 128, (n, *t.shape[1:]), dtype=np.int8) for t in load.inputs]
        d.run([a[:50] for a in x])  # warm-up
        best = None
        for _ in range(3):
            t0 = time.perf_counter_ns()
            res = d.run(x)
            wall = (time.perf_counter_ns() - t0) / n
            dev = float(res.ticks.mean())
            if best is None or wall - dev < best[0] - best[1]:
                best = (wall, dev)
    wall, dev = best
    print(f"ssh   agent round trip: {wall / 1e3:8.1f} µs/inf on the host, invoke() {dev / 1e3:7.1f} µs on the device, "
          f"overhead {(wall - dev) / 1e6:.3f} ms/inf (goal ≤ 0.3 ms), {n} inferences, {MODEL.name}")


def push(target: TargetConfig, mb: int = PUSH_MB, tries: int = 3) -> None:
    """The same random bytes over SFTP (RemoteCache.put) and a raw exec channel, interleaved, best of 3."""
    o = resolve(target)
    blob = os.urandom(mb << 20)
    client = ssh_conn.connect(o)
    sftp_s, raw_s = [], []
    try:
        cache = ssh_conn.RemoteCache(client, o)
        for _ in range(tries):
            t0 = time.perf_counter()
            cache.put(blob, f"{cache.root}/perf/sftp.bin")
            sftp_s.append(time.perf_counter() - t0)
            raw_s.append(_raw_push(client, blob, f"{cache.root}/perf/raw.bin"))
        ok = hashlib.sha256(blob).hexdigest() == _remote_sha(client, f"{cache.root}/perf/sftp.bin")
        cache.close()
    finally:
        client.close()
    s, r = min(sftp_s), min(raw_s)
    print(f"ssh   push {mb} MB (best of {tries}): SFTP {mb / s:6.1f} MB/s, raw channel {mb / r:6.1f} MB/s "
          f"→ SFTP at {r / s:.0%} of the raw rate (sha256 {'ok' if ok else 'MISMATCH'})")


def _raw_push(client, blob: bytes, path: str) -> float:
    """Seconds for `cat > path` to take the bytes over one exec channel, exit status included."""
    chan = client.get_transport().open_session()
    t0 = time.perf_counter()
    chan.exec_command(f"cat > {shlex.quote(path)}")
    view = memoryview(blob)
    for i in range(0, len(blob), 1 << 16):
        chan.sendall(view[i:i + (1 << 16)])
    chan.shutdown_write()
    chan.recv_exit_status()
    return time.perf_counter() - t0


def _remote_sha(client, path: str) -> str:
    rc, out, _ = ssh_conn.run(client, f"sha256sum {shlex.quote(path)}")
    return out.split()[0] if rc == 0 and out else ""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, LoopbackSshd(Path(tmp) / "sshd") as server:
        target = _target(server.state(), str(Path(tmp) / "remote"))
        t0 = time.perf_counter()
        ssh_conn.connect(resolve(target)).close()
        print(f"ssh   paramiko connect + auth on loopback: {(time.perf_counter() - t0) * 1e3:.0f} ms")
        if MODEL.exists():
            round_trip(target)
        else:
            print(f"(skipped the round trip: {MODEL} missing)")
        push(target)


if __name__ == "__main__":
    main()
