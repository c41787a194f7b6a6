"""Helpers for tests/mcu (and tests/lab).

QEMU targets come from targets/qemu-m4.yaml; HB_QEMU_ELF points the driver at another ELF
(e.g. a snapshot build while the tree is mid-edit). The native target is firmware/tools/
native_target.c: the same link/command layer + engine on stdio, under ASan when available.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import select
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from harness.core.config import load_target
from harness.core.tensors import sample_shape
from harness.drivers import driver_class
from tests.common import ROOT, SHARED  # noqa: F401 (re-exported for the tests)


def qemu_driver(**options):
    """An unopened qemu-m4 driver with `options` on top of the target file's."""
    t = load_target("qemu-m4")
    opts = {**t.options, **options}
    if os.environ.get("HB_QEMU_ELF") and "elf" not in options:
        opts["elf"] = os.environ["HB_QEMU_ELF"]
    return driver_class(t.kind)(dataclasses.replace(t, options=opts))


def random_inputs(specs, n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for s in specs:
        info = np.iinfo(s.dtype)
        out.append(rng.integers(info.min, info.max + 1, size=(n, *sample_shape(s.shape)), dtype=s.dtype))
    return out


def tflm_outputs(data: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The TFLM interpreter's outputs for each row: one [n, ...] array per output."""
    from tflite_micro.python.tflite_micro import runtime as tflm

    it = tflm.Interpreter.from_bytes(data, arena_size=8 << 20)
    n = len(inputs[0])
    outs: list[list[np.ndarray]] = []
    for r in range(n):
        for i, x in enumerate(inputs):
            it.set_input(x[r][None], i)
        it.invoke()
        k = 0
        row = []
        while True:
            try:
                row.append(np.array(it.get_output(k)))
            except Exception:
                break
            k += 1
        outs.append(row)
    return [np.stack([o[j].reshape(sample_shape(o[j].shape)) for o in outs])
            for j in range(len(outs[0]))]


def run_bitexact(target, data: bytes, name: str, n: int):
    """Load `data`, run n seeded inputs, and assert every output byte equals TFLM's; (load info, run result)."""
    li = target.load(data, name)
    xs = random_inputs(li.inputs, n, seed=len(data))
    res = target.run(xs)
    want = tflm_outputs(data, xs)
    assert len(res.outputs) == len(want)
    for got, exp in zip(res.outputs, want):
        assert got.dtype == exp.dtype and got.shape == exp.shape
        assert np.array_equal(got, exp), f"{target.target.name} {name}: {np.sum(got != exp)} of {got.size} differ from TFLM"
    return li, res


def native_target_binary() -> Path:
    """firmware/build/native-san/hbtarget (ASan/UBSan), or the plain build without a sanitizer runtime."""
    if os.environ.get("HB_NATIVE_TARGET"):
        return Path(os.environ["HB_NATIVE_TARGET"])
    for san in ("1", "0"):
        r = subprocess.run(["make", "-s", "-C", str(ROOT / "firmware"), "native-target", f"SAN={san}"],
                           capture_output=True, text=True)
        path = ROOT / "firmware" / "build" / ("native-san" if san == "1" else "native") / "hbtarget"
        if r.returncode == 0 and path.exists():
            return path
    pytest.fail(f"cannot build the native target: {r.stderr.strip()[-400:]}")


class PipeStream:
    """A child process's stdin/stdout as a link stream."""

    def __init__(self, argv: list[str], cwd: Path | None = None) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=cwd)

    def write(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read(self, n: int) -> bytes:
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], 0.02)
        return os.read(fd, n) if ready else b""

    def close(self) -> str:
        """Stop the child; its stderr (sanitizer reports land there)."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stdout.close()
        self.proc.stderr.close()
        return err


def wait_until(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


@functools.lru_cache(maxsize=4)
def _clean_qemu_run(data: bytes, n: int, seed: int):
    with qemu_driver() as clean:
        clean.open()
        li = clean.load(data, "clean")
        xs = random_inputs(li.inputs, n, seed=seed)
        return clean.run(xs), xs


def clean_qemu_run(data: bytes, n: int, seed: int):
    """(result, inputs) of an undamaged qemu-m4 run of n seeded inputs: the reference a damaged
    run must equal; made once per test session for each (model, n, seed)."""
    res, xs = _clean_qemu_run(data, n, seed)
    return res, [x.copy() for x in xs]


@contextlib.contextmanager
def proxied_qemu(rate: float = 1 / 2000, burst_after: int = 0, burst: int = 0, seed: int = 7, replay=None,
                 **options):
    """An unopened qemu-m4 driver whose link runs through a FaultProxy (tests/mcu/fault_proxy.py);
    `d.reset_at = n` resets the board (QEMU's monitor) once n bytes went host → target."""
    from harness.drivers.mcu import McuDriver
    from tests.mcu.fault_proxy import FaultProxy

    d = qemu_driver(**options)

    class Proxied(type(d)):
        def _connect(self):
            self.proxy = FaultProxy(self._port, rate=rate, burst_after=burst_after, burst=burst, seed=seed,
                                    on_bytes=self._maybe_reset, replay=replay)
            self.proxy.start()
            self._proxy_url = f"socket://127.0.0.1:{self.proxy.port}"
            return McuDriver._connect(self)

        def url(self):
            return getattr(self, "_proxy_url", None) or super().url()

        def _maybe_reset(self, sent: int) -> None:
            if self.reset_at and sent >= self.reset_at:
                self.reset_at = 0
                threading.Thread(target=self.monitor, args=("system_reset",), daemon=True).start()

        def close(self):
            super().close()
            if getattr(self, "proxy", None):
                self.proxy.close()

    d.__class__ = Proxied
    d.reset_at = 0
    with d:
        yield d


def native_driver(target_bin: Path, filters=None, **options):
    """An unopened mcu driver (its real load/run path) on the native target over pipes; filters:
    (host → target, target → host) objects with feed(bytes) -> bytes (fault_proxy.py)."""
    from harness.core.config import TargetConfig
    from harness.drivers.mcu import McuDriver
    from tests.mcu.fault_proxy import FilteredStream

    class NativeDriver(McuDriver):
        def _connect(self):
            self.stream = PipeStream([str(target_bin), str(1 << 20), str(1 << 20)])
            return self.stream if filters is None else FilteredStream(self.stream, *filters)

        def close(self) -> None:
            super().close()
            if getattr(self, "stream", None) is not None:
                err, self.stream = self.stream.close(), None
                assert "ERROR: AddressSanitizer" not in err and "runtime error" not in err, err

    return NativeDriver(TargetConfig(kind="mcu", name="native", options={"url": "native", "frame_timeout": 0.3,
                                                                         **options}))
