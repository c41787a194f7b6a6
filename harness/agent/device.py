"""The agent's device side: facts about the board, and one model on one kernel set.

Runs on the board's own Python 3 (3.7+) with numpy and tflite_runtime or ai_edge_litert, nothing
else: the only harness import is core.tflite (stdlib-only, shipped with the agent).
"""

from __future__ import annotations

import importlib
import os
import platform
import shutil
import subprocess
import time

from ..core.tflite import NUMPY_PIP, RUNTIME_MODULES, RUNTIME_PIP

KERNELS = ("optimized", "reference", "xnnpack")
# optimized: the built-in optimised kernels (ruy, NEON) alone; xnnpack: the runtime's default
# delegates on top (XNNPACK takes the ops it supports); reference: the reference kernels (as TFLM)
RESOLVERS = {"optimized": "BUILTIN_WITHOUT_DEFAULT_DELEGATES", "xnnpack": "BUILTIN", "reference": "BUILTIN_REF"}
CPU_PARTS = {"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57",
             "0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0b": "Cortex-A76", "0xc07": "Cortex-A7"}


class MissingRuntime(Exception):
    """numpy or the interpreter is not installed on the board; the message says how to install."""


def import_runtime(runtime: str):
    """The interpreter module, or MissingRuntime with the exact pip command."""
    if runtime not in RUNTIME_MODULES:
        raise MissingRuntime(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIME_MODULES)}")
    try:
        import numpy  # noqa: F401
    except ImportError:
        raise MissingRuntime(f"numpy is not installed: python3 -m pip install --user '{NUMPY_PIP}'") from None
    try:
        return importlib.import_module(RUNTIME_MODULES[runtime])
    except ImportError as e:
        raise MissingRuntime(f"{runtime} is not installed ({e}): "
                             f"python3 -m pip install --user '{RUNTIME_PIP[runtime]}'") from None


def _read(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\x00", "").strip()
    except OSError:
        return ""


def _cpuinfo() -> dict:
    info = {}
    for line in _read("/proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        info.setdefault(key.strip().lower(), value.strip())
    return info


def emulation() -> str:
    """How the board is emulated, or '' on real hardware.

    Under qemu-user, uname says aarch64 but /proc/cpuinfo is the host's (x86 vendor_id / flags).
    """
    if os.environ.get("HB_EMULATED"):
        return os.environ["HB_EMULATED"]
    info = _cpuinfo()
    if platform.machine() in ("aarch64", "armv7l", "armv6l") and ("vendor_id" in info or "flags" in info):
        return f"user-mode emulation: {platform.machine()} process on a {info.get('vendor_id', 'x86')} host"
    return ""


def cpu_name() -> str:
    info = _cpuinfo()
    part = CPU_PARTS.get(info.get("cpu part", ""), "")
    if part:
        return part
    return info.get("model name") or info.get("hardware") or platform.processor() or platform.machine()


def _throttled() -> str:
    if not shutil.which("vcgencmd"):
        return ""
    try:
        return subprocess.run(["vcgencmd", "get_throttled"], capture_output=True, text=True,
                              timeout=2).stdout.strip().partition("=")[2]
    except (OSError, subprocess.SubprocessError):
        return ""


def facts(runtime: str, kernels: str, threads: int) -> dict:
    """Everything the report records about the board; missing files become ''."""
    emu = emulation()
    cpu = cpu_name()
    if emu:  # cpuinfo describes the host CPU here; the emulated core is named by the setup
        cpu = f"{emu.split('-cpu ')[-1] if '-cpu ' in emu else platform.machine()} (emulated; host CPU {cpu})"
    freq = _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
    temp = _read("/sys/class/thermal/thermal_zone0/temp")
    mod = import_runtime(runtime)
    top = importlib.import_module(mod.__name__.split(".")[0])
    import numpy

    return {
        "board": _read("/proc/device-tree/model") or ("emulated Raspberry Pi" if emu else platform.node()),
        "cpu": cpu, "cores": os.cpu_count() or 0, "machine": platform.machine(),
        "governor": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        "clock_hz": int(freq) * 1000 if freq.isdigit() else 0,
        "temperature_c": round(int(temp) / 1000, 1) if temp.lstrip("-").isdigit() else None,
        "throttled": _throttled(), "kernel": platform.release(), "python": platform.python_version(),
        "runtime": f"{runtime} {getattr(top, '__version__', '?')}", "numpy": numpy.__version__,
        "kernels": kernels, "threads": threads, "emulated": emu,
        "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [],
        "boot_id": _read("/proc/sys/kernel/random/boot_id"),
        "peak_rss_bytes": peak_rss(),
    }


def peak_rss() -> int | None:
    """This process's peak resident memory in bytes (the agent runs the models in-process)."""
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux: KiB
    except (ImportError, OSError, ValueError):
        return None


class Model:
    """One loaded model; invoke() is timed with perf_counter_ns around the interpreter call only."""

    def __init__(self, model: bytes, runtime: str, kernels: str, threads: int, preserve: bool = False) -> None:
        if kernels not in KERNELS:
            raise ValueError(f"unknown kernels {kernels!r}; choose one of {', '.join(KERNELS)}")
        mod = import_runtime(runtime)
        resolver = getattr(mod.OpResolverType, RESOLVERS[kernels])
        # preserve: every intermediate tensor kept (no memory reuse), for per-layer drift
        self.it = mod.Interpreter(model_content=model, num_threads=threads, experimental_op_resolver_type=resolver,
                                  experimental_preserve_all_tensors=preserve)
        self.it.allocate_tensors()
        self.preserve = preserve
        self.inputs = self.it.get_input_details()
        self.outputs = self.it.get_output_details()
        self.details = self.it.get_tensor_details()
        self.details_by_index = {int(d["index"]): d for d in self.details}
        self.ops = self._ops()
        self.producers = {t: (op["index"], op["op_name"]) for op in self.ops for t in op["outputs"]}
        self._buffers = {}  # partial inputs (SET_INPUT at an offset) until complete

    def _ops(self) -> list:
        try:
            return [{"index": int(o["index"]), "op_name": str(o["op_name"]),
                     "outputs": [int(t) for t in o["outputs"]]} for o in self.it._get_ops_details()]
        except (AttributeError, KeyError, ValueError):  # older runtimes: no op list
            return []

    def set_input(self, idx: int, offset: int, data: bytes) -> None:
        import numpy as np

        d = self.inputs[idx]
        nbytes = np.dtype(d["dtype"]).itemsize * int(np.prod(d["shape"], dtype=np.int64))
        if offset == 0 and len(data) == nbytes:
            self.it.set_tensor(d["index"], np.frombuffer(data, dtype=d["dtype"]).reshape(d["shape"]))
            return
        if offset + len(data) > nbytes:
            raise ValueError(f"bytes {offset}+{len(data)} beyond the tensor's {nbytes}")
        buf = self._buffers.setdefault(idx, bytearray(nbytes))
        buf[offset:offset + len(data)] = data
        self.it.set_tensor(d["index"], np.frombuffer(bytes(buf), dtype=d["dtype"]).reshape(d["shape"]))

    def invoke(self, n: int = 1) -> list:
        """ns per invoke(), n times on the current inputs."""
        invoke, clock = self.it.invoke, time.perf_counter_ns
        times = []
        for _ in range(n):
            t0 = clock()
            invoke()
            times.append(clock() - t0)
        return times

    def tensor_bytes(self, idx: int) -> bytes:
        return self.it.get_tensor(idx).tobytes()
