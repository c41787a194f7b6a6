"""`harness doctor`: what is installed, what is missing, and the command that installs it."""

from __future__ import annotations

import importlib
import shutil

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
        rows.append(("numpy < 2", False, "tflite-runtime 2.14 needs numpy < 2: pip install 'numpy<2'"))
    for exe, fix, why in CHECKS_BIN:
        path = shutil.which(exe) or (shutil.which(exe, path="/usr/sbin:/sbin"))
        rows.append((exe, bool(path), path or f"missing (needed for {why}): {fix}"))
    return rows
