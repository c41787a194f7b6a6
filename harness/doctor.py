"""`harness doctor`: what is installed, what is missing, and the command that installs it."""

from __future__ import annotations

import importlib
import shutil

from .core.config import load_target
from .core.tflite import NUMPY_PIP, RUNTIME_MODULES, RUNTIME_PIP

CHECKS_PY = [
    ("numpy", "numpy", f"pip install '{NUMPY_PIP}'"),
    ("tflite-runtime", RUNTIME_MODULES["tflite-runtime"], f"pip install {RUNTIME_PIP['tflite-runtime']}"),
    ("tflite-micro (TFLM oracle)", "tflite_micro.python.tflite_micro.runtime", "make venv"),
    ("ai-edge-litert (optional)", RUNTIME_MODULES["ai-edge-litert"], f"pip install {RUNTIME_PIP['ai-edge-litert']}"),
    ("pyserial", "serial", "make venv"),
    ("paramiko", "paramiko", "make venv"),
]
CHECKS_BIN = [
    ("arm-none-eabi-gcc", "apt-get install -y gcc-arm-none-eabi libnewlib-arm-none-eabi", "firmware"),
    ("qemu-system-arm", "apt-get install -y qemu-system-arm", "qemu-m4/m7/m55 targets"),
    ("qemu-aarch64-static", "apt-get install -y qemu-user-static", "rpi4-emu target"),
    ("sshd", "apt-get install -y openssh-server", "rpi4-emu target and SSH tests"),
]


def _version(mod) -> str:
    top = importlib.import_module(mod.__name__.split(".")[0])
    return str(getattr(top, "__version__", "installed"))


def local_checks() -> list[tuple[str, bool, str]]:
    """(what, ok, detail): detail is the version, or the install command when missing."""
    rows = []
    for what, module, fix in CHECKS_PY:
        try:
            rows.append((what, True, _version(importlib.import_module(module))))
        except Exception:  # a broken install (e.g. numpy 2 under tflite-runtime) counts as missing
            rows.append((what, False, f"missing: {fix}"))
    np_ok = [r for r in rows if r[0] == "numpy" and r[1]]
    if np_ok and not np_ok[0][2].startswith("1."):
        rows.append(("numpy < 2", False, f"tflite-runtime 2.14 needs numpy < 2: pip install '{NUMPY_PIP}'"))
    for exe, fix, why in CHECKS_BIN:
        path = shutil.which(exe) or (shutil.which(exe, path="/usr/sbin:/sbin"))
        rows.append((exe, bool(path), path or f"missing (needed for {why}): {fix}"))
    return rows


def doctor(target: str | None, install: bool) -> int:
    """`harness doctor [--target T [--install-runtime]]`: print every check; 0 when nothing is missing, else 2."""
    rows = local_checks()
    for what, ok, detail in rows:
        status = "ok " if ok else ("-  " if "optional" in what else "MISSING")
        print(f"{status:7} {what:28} {detail}")
    ok = all(good for what, good, _ in rows if "optional" not in what)
    if target:
        return _doctor_remote(target, install) or (0 if ok else 2)
    return 0 if ok else 2


def _doctor_remote(name: str, install: bool) -> int:
    """Checks on a Linux board over SSH: Python, numpy, runtime; each problem with its fix."""
    target = load_target(name)
    if target.kind != "ssh":
        print(f"{name}: kind {target.kind} has no remote checks (the firmware's HELLO says what it supports)")
        return 0
    from .drivers.ssh import driver as ssh

    if install:
        ssh.install_runtime(target)
    problems = ssh.remote_check(target)
    for p in problems:
        print(f"MISSING {p}")
    if not problems:
        print(f"ok      {name}: remote Python, numpy and runtime")
    return 2 if problems else 0
