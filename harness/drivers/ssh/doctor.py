"""`harness doctor --target rpi4`: what the board's Python lacks, each with the exact command to fix it."""

from __future__ import annotations

import json
import shlex

from ...core.config import TargetConfig
from ...core.tflite import NUMPY_PIP, RUNTIME_MODULES, RUNTIME_PIP
from ...errors import TargetError
from . import conn as ssh_conn
from .options import SshOptions, resolve

PIP_SPEC = {name: [NUMPY_PIP, pip] for name, pip in RUNTIME_PIP.items()}

# Runs on the board: facts as JSON, no third-party imports at top level.
_PROBE = r"""
import importlib, json, os, shutil, sys, sysconfig
r = {"python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
     "managed": os.path.exists(os.path.join(sysconfig.get_paths()["stdlib"], "EXTERNALLY-MANAGED"))}
try:
    import pip; r["pip"] = pip.__version__
except Exception: r["pip"] = None
try:
    import numpy; r["numpy"] = numpy.__version__
except Exception as e: r["numpy"] = None
try:
    importlib.import_module(sys.argv[1]); r["runtime"] = "ok"
except Exception as e: r["runtime"] = None; r["runtime_error"] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(r))
"""


def _pip_command(o: SshOptions, facts: dict, packages: list[str]) -> str:
    extra = ["--break-system-packages"] if facts.get("managed") else []  # PEP 668 (Debian bookworm, Pi OS)
    return " ".join(shlex.quote(p) for p in [o.python, "-m", "pip", "install", "--user", *extra, *packages])


def _probe(client, o: SshOptions) -> dict:
    cmd = " ".join(shlex.quote(p) for p in [o.python, "-c", _PROBE, RUNTIME_MODULES[o.runtime]])
    rc, out, err = ssh_conn.run(client, cmd, timeout=max(60.0, o.connect_timeout * 6))
    if rc == 127 or (rc and not out.strip()):
        return {"error": (err.strip().splitlines() or [f"exit status {rc}"])[-1]}
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": f"unexpected answer from {o.python}: {out.strip()[:200]!r}"}


def problems_of(o: SshOptions, facts: dict) -> list[str]:
    """One line per problem, each ending in the command that fixes it."""
    at = f"{o.host}"
    if "error" in facts:
        return [f"{at}: {o.python} does not run ({facts['error']}): sudo apt-get install -y python3 python3-pip "
                "(or set python: in the target file)"]
    found = []
    major, minor = (int(v) for v in facts["python"].split(".")[:2])
    if o.runtime == "tflite-runtime" and (major, minor) > (3, 11) and not facts.get("runtime"):
        found.append(f"{at}: Python {facts['python']} has no tflite-runtime 2.14 wheel (3.8–3.11 only): "
                     f"use runtime: ai-edge-litert, then {_pip_command(o, facts, PIP_SPEC['ai-edge-litert'])}")
        return found
    needs_pip = not facts.get("numpy") or not facts.get("runtime") or not facts["numpy"].startswith("1.")
    if needs_pip and not facts.get("pip"):
        found.append(f"{at}: pip missing for {o.python}: sudo apt-get install -y python3-pip")
    if not facts.get("numpy"):
        found.append(f"{at}: numpy missing: {_pip_command(o, facts, ['numpy<2'])}")
    elif not facts["numpy"].startswith("1.") and o.runtime == "tflite-runtime":
        found.append(f"{at}: numpy {facts['numpy']} breaks tflite-runtime 2.14: {_pip_command(o, facts, ['numpy<2'])}")
    if not facts.get("runtime"):
        why = facts.get("runtime_error", "")
        found.append(f"{at}: {o.runtime} missing ({why}): {_pip_command(o, facts, PIP_SPEC[o.runtime])}")
    return found


def remote_check(target: TargetConfig) -> list[str]:
    """Problems with the board's Python, numpy and runtime; [] when the agent can run there."""
    o = resolve(target)
    client = ssh_conn.connect(o)
    try:
        return problems_of(o, _probe(client, o))
    finally:
        client.close()


def install_runtime(target: TargetConfig) -> str:
    """`pip install --user` numpy<2 and the runtime on the board; returns pip's last line."""
    o = resolve(target)
    client = ssh_conn.connect(o)
    try:
        facts = _probe(client, o)
        if "error" in facts:
            raise TargetError(problems_of(o, facts)[0])
        cmd = _pip_command(o, facts, PIP_SPEC[o.runtime])
        rc, out, err = ssh_conn.run(client, cmd, timeout=1800)
        if rc:
            tail = (err.strip() or out.strip()).splitlines()[-1:] or [f"exit status {rc}"]
            raise TargetError(f"{o.host}: `{cmd}` failed: {tail[0]}")
        return (out.strip().splitlines() or ["installed"])[-1]
    finally:
        client.close()
