#!/usr/bin/env python3
"""rpi4-emu: an emulated Raspberry Pi 4 user space behind a real OpenSSH server on loopback.

    python -m tools.rpi4_emu build        # once: arm64 Debian python3 + numpy<2 + tflite-runtime (stamped)
    python -m tools.rpi4_emu start        # build if needed, start sshd on 127.0.0.1:<free port>
    eval "$(python -m tools.rpi4_emu env)"  # HB_* variables for targets/rpi4-emu.yaml (after start)
    python -m tools.rpi4_emu stop
    python -m tools.rpi4_emu run -- CMD…  # start, run CMD with the HB_* variables set, stop

The aarch64 interpreter runs under `qemu-aarch64-static -cpu cortex-a72` (a Pi 4's core); sshd puts
HB_EMULATED in the session, and the `python3` wrapper (HB_PYTHON) sets it too, so the agent says
it is emulated.
Everything lives under .cache/rpi4-emu/ (gitignored). Stdlib only, so the Makefile can call it early.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("HB_EMU_CACHE", ROOT / ".cache" / "rpi4-emu"))
PYVER = "3.11"  # Debian bookworm's python3: the wheels must match it
WHEELS = ["numpy<2", "tflite-runtime==2.14.0"]
ROOTS = [f"python{PYVER}-minimal:arm64", f"libpython{PYVER}-stdlib:arm64", "libstdc++6:arm64"]
SKIP = {"dpkg", "tar", "install-info", "perl-base", "perl"}  # pulled in by maintainer scripts only
CPU = "cortex-a72"
BUILD_VERSION = "1"  # bump to force a rebuild of existing caches

from tools.loopback_sshd import LoopbackSshd


def _run(cmd: list[str], **kw) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode:
        raise SystemExit(f"rpi4-emu: `{' '.join(cmd)}` failed:\n{p.stderr.strip()[-2000:]}")
    return p.stdout


def _ensure_arm64_apt() -> None:
    if "arm64" in _run(["dpkg", "--print-foreign-architectures"]).split():
        return
    if os.geteuid() != 0:
        raise SystemExit("rpi4-emu: needs arm64 Debian packages; run: "
                         "sudo dpkg --add-architecture arm64 && sudo apt-get update")
    print("== rpi4-emu: dpkg --add-architecture arm64; apt-get update", flush=True)
    _run(["dpkg", "--add-architecture", "arm64"])
    _run(["apt-get", "update", "-qq"])


def _package_list() -> list[str]:
    """python3.11 and the arm64 libraries it needs, from apt's own dependency graph."""
    out = _run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                "--no-breaks", "--no-replaces", "--no-enhances", *ROOTS])
    names = {ln.strip() for ln in out.splitlines() if ln and not ln.startswith((" ", "<"))}
    return sorted(n for n in names if n.endswith(":arm64") and n.split(":")[0] not in SKIP)


def _fetch_debs(debs: Path) -> list[Path]:
    debs.mkdir(parents=True, exist_ok=True)
    pkgs = _package_list()
    p = subprocess.run(["apt-get", "download", "-qq", *pkgs], cwd=debs, capture_output=True, text=True)
    if p.returncode:  # a stale list: refresh once and retry
        if os.geteuid() == 0:
            _run(["apt-get", "update", "-qq"])
        _run(["apt-get", "download", "-qq", *pkgs], cwd=debs)
    return sorted(debs.glob("*.deb"))


def _fetch_wheels(wheels: Path) -> list[Path]:
    wheels.mkdir(parents=True, exist_ok=True)
    # manylinux2014 alone misses numpy 1.26's aarch64 wheel tag; 2_34 is bookworm's glibc 2.36 or lower
    _run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--only-binary=:all:",
          "--platform", "manylinux2014_aarch64", "--platform", "manylinux_2_34_aarch64",
          "--python-version", PYVER, "-d", str(wheels), *WHEELS])
    return sorted(wheels.glob("*.whl"))


def _write_wrapper(sysroot: Path) -> Path:
    """bin/python3: what the remote side runs as `python3`."""
    qemu = shutil.which("qemu-aarch64-static") or "/usr/bin/qemu-aarch64-static"
    wrapper = CACHE / "bin" / "python3"
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    wrapper.write_text(
        "#!/bin/sh\n# aarch64 Debian python under user-mode QEMU (rpi4-emu): an honest emulated Pi\n"
        f"HB_EMULATED='qemu-aarch64-static -cpu {CPU}'; export HB_EMULATED\n"
        f"exec {qemu} -cpu {CPU} -L {sysroot} {sysroot}/usr/bin/python{PYVER} \"$@\"\n")
    wrapper.chmod(0o755)
    return wrapper


def build() -> Path:
    """The sysroot and python3 wrapper, built once (stamp); returns the wrapper's path."""
    sysroot, stamp = CACHE / "sysroot", CACHE / f"built-{BUILD_VERSION}.stamp"
    if stamp.exists() and (sysroot / "usr" / "bin" / f"python{PYVER}").exists():
        return _write_wrapper(sysroot)
    if not shutil.which("qemu-aarch64-static"):
        raise SystemExit("rpi4-emu: qemu-aarch64-static missing; run: apt-get install -y qemu-user-static")
    print(f"== rpi4-emu: building the aarch64 user space in {CACHE} (once)", flush=True)
    _ensure_arm64_apt()
    shutil.rmtree(sysroot, ignore_errors=True)
    for deb in _fetch_debs(CACHE / "debs"):
        _run(["dpkg", "-x", str(deb), str(sysroot)])
    site = sysroot / "usr" / "lib" / "python3" / "dist-packages"
    for whl in _fetch_wheels(CACHE / "wheels"):
        with zipfile.ZipFile(whl) as z:
            z.extractall(site)
    for so in site.rglob("*.so*"):
        so.chmod(0o755)
    wrapper = _write_wrapper(sysroot)
    _run([str(wrapper), "-c", "import numpy, tflite_runtime.interpreter"])
    stamp.touch()
    return wrapper


def sshd(state_dir: Path | None = None) -> LoopbackSshd:
    """A (not yet started) sshd whose remote `python3` is the emulated one."""
    wrapper = build()
    sshd = LoopbackSshd(state_dir or CACHE / "sshd", env={"HB_EMULATED": f"qemu-aarch64-static -cpu {CPU}"})
    sshd.python = str(wrapper)
    return sshd


def _state_file() -> Path:
    return CACHE / "sshd" / "state.json"


def _env_lines(state: dict) -> list[str]:
    return [f"HB_HOST={state['host']}", f"HB_PORT={state['port']}", f"HB_USER={state['user']}",
            f"HB_KEY_FILE={state['key_file']}", f"HB_KNOWN_HOSTS={state['known_hosts']}",
            f"HB_REMOTE_DIR={CACHE / 'remote'}", f"HB_PYTHON={CACHE / 'bin' / 'python3'}"]


def _exports(state: dict) -> str:
    """`export K=V` lines for a shell's eval."""
    lines = []
    for line in _env_lines(state):
        key, value = line.split("=", 1)
        lines.append(f"export {key}={shlex.quote(value)}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "build"
    if cmd == "build":
        print(build())
    elif cmd == "start":
        stop_quietly()
        s = sshd()
        state = s.start(detach=True)
        _state_file().write_text(json.dumps(state))
        print(_exports(state))
    elif cmd == "env":
        if not _state_file().exists():
            raise SystemExit("rpi4-emu: not started; run: python -m tools.rpi4_emu start")
        print(_exports(json.loads(_state_file().read_text())))
    elif cmd == "stop":
        stop_quietly()
    elif cmd == "run":
        return _run_with_sshd(argv[2:] if argv[1:2] == ["--"] else argv[1:])
    else:
        raise SystemExit(__doc__)
    return 0


def _run_with_sshd(command: list[str]) -> int:
    """`make bench TARGET=rpi4-emu`: the board is up exactly as long as the command runs."""
    if not command:
        raise SystemExit("rpi4-emu run: give the command after --")
    with sshd() as s:
        env = dict(os.environ, **dict(line.split("=", 1) for line in _env_lines(s.state())))
        return subprocess.call(command, env=env)


def stop_quietly() -> None:
    if _state_file().exists():
        LoopbackSshd.stop_pid(json.loads(_state_file().read_text()).get("pid", 0))
        _state_file().unlink()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
