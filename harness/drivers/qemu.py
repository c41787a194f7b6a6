"""An emulated Cortex-M: starts qemu-system-arm with the harness firmware, then is an mcu driver
over socket://.

The guest UART0 is a TCP server on a free loopback port (wait=on: the guest starts only when
we connect, so its boot HELLO is never lost); the monitor listens on a unix socket (tests send
`system_reset` through monitor()). With `-icount shift=N` SysTick advances once per
clock_hz-period of virtual time, and virtual time is 2^N ns per instruction, so one tick is
1e9 / (clock_hz * 2^N) instructions (40 at 25 MHz, 31.25 at 32 MHz, shift 0): ticks are reported as
instructions, and repeat exactly (`sleep=off`: idle time never advances virtual time with the host clock). Without icount they follow host time and are reported as cycles.
QEMU is always torn down: close(), errors, Ctrl-C, atexit, and PR_SET_PDEATHSIG if we die.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from ..core import elf
from ..core.schema import opt
from ..core.paths import ROOT
from ..errors import ConfigError, LinkError, TargetError
from ..proc import die_with_parent, free_port
from . import register
from .base import TargetInfo
from .mcu import McuDriver, McuOptions

_LIVE: "weakref.WeakSet[QemuDriver]" = weakref.WeakSet()
# Semihosting exit codes of the firmware (port/common/startup.c, cmsdk.c).
_EXIT_MEANING = {0: "stopped from its monitor or by the firmware", 3: "the firmware hit a fault: HardFault, "
                 "MemManage, BusFault or UsageFault", 4: "the firmware took an unexpected exception"}


@dataclass(frozen=True)
class QemuLaunch:
    """How QEMU starts: the options every QEMU-backed kind shares (qemu, qemu-eembc)."""

    machine: str = "mps2-an386"
    board: str = opt("mps2-an386", name=True, hint="firmware/port/<board>")
    icount: int | None = opt(0, min=0, max=10, hint="-icount shift=<n>; null: no icount (ticks follow host time)")
    elf: str = ""  # default: firmware/build/<board>/harness.elf, built when missing or stale
    build: bool = True
    qemu: str = "qemu-system-arm"
    start_timeout: float = opt(20.0, above=0, max=3600)


@dataclass(frozen=True)
class QemuOptions(McuOptions, QemuLaunch):
    """targets/qemu-*.yaml `options:` (plus every mcu option except url)."""


def icount_tick_scale(icount: int, clock_hz: int, hello: dict | None) -> float:
    """Instructions per SysTick tick under -icount shift=<icount>: 1e9 / (clock_hz * 2^icount), the clock
    from the target file, else the one the firmware announced in HELLO (32 MHz on mps3-an547: 31.25
    instructions a tick; 25 MHz on mps2: 40)."""
    clock = clock_hz or int((hello or {}).get("clock_hz", 0)) or 25_000_000
    return 1e9 / (clock * (1 << icount))


class QemuProcess:
    """QEMU's process under a serial driver: mixed in before McuDriver (kind qemu) or EembcDriver
    (kind qemu-eembc, drivers/eembc_qemu.py), whose _connect() it wraps. It starts QEMU on a
    free loopback port, connects, talks to the monitor, explains an exit, and stops it.
    The driver class gives elf() and has `opts` with the QemuLaunch fields."""

    proc: subprocess.Popen | None = None
    _port = 0
    _tmp: tempfile.TemporaryDirectory | None = None

    def url(self) -> str:
        return f"socket://127.0.0.1:{self._port}"

    def elf(self) -> Path:
        raise NotImplementedError

    def command(self) -> list[str]:
        o = self.opts
        cmd = [o.qemu, "-M", o.machine, "-kernel", str(self.elf()), "-nographic",
               "-serial", f"tcp:127.0.0.1:{self._port},server=on,wait=on,nodelay=on",
               "-monitor", f"unix:{self._monitor_path()},server=on,wait=off",
               "-semihosting-config", "enable=on,target=native"]
        if o.icount is not None:
            # sleep=off: while the guest idles in WFI the virtual clock jumps to the next timer
            # deadline instead of following host time; with the default sleep=on the SysTick
            # phase at each INVOKE varied with host timing and counts differed by one tick
            # (40 instructions) in about every other run. Cost: while waiting for the host the
            # guest runs through SysTick wraps, about half a host core (docs/mcu.md).
            cmd += ["-icount", f"shift={o.icount},sleep=off"]
        return cmd

    def _monitor_path(self) -> str:
        return os.path.join(self._tmp.name, "monitor.sock")

    def check_elf(self) -> None:
        """The firmware is a 32-bit little-endian Arm ELF: said here, not as a link error from QEMU."""
        path = self.elf()
        where = f"target {self.target.name}: firmware {path}" + (" (options.elf)" if self.opts.elf else "")
        try:
            with open(path, "rb") as f:
                head = f.read(20)
        except FileNotFoundError:
            raise TargetError(f"{where} not found") from None
        except OSError as e:
            raise ConfigError(f"{where}: cannot read ({e.strerror})") from None
        if len(head) < 20 or head[:4] != b"\x7fELF" or head[4] != 1 or head[5] != 1 or head[18:20] != b"\x28\x00":
            raise ConfigError(f"{where} is not a 32-bit Arm ELF file; give the firmware built for the board "
                              f"(make -C firmware BOARD={self.opts.board}) or leave elf unset")

    def preflight(self) -> None:
        if self.opts.elf:  # the default ELF is built by open()
            self.check_elf()

    def _launch(self) -> None:
        """Start QEMU on elf() (stopped again by _shutdown(), close(), or at exit)."""
        self.check_elf()
        self._tmp = tempfile.TemporaryDirectory(prefix="hb-qemu-")
        _LIVE.add(self)
        self._start()

    def qemu_facts(self) -> dict:
        return {"machine": self.opts.machine, "icount": self.opts.icount, "qemu_pid": self.proc.pid}

    def _start(self) -> None:
        self._port = free_port()
        log = open(os.path.join(self._tmp.name, "qemu.log"), "w+b")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     preexec_fn=die_with_parent)
        log.close()

    def _connect(self):
        """Connect to the guest UART as soon as QEMU listens (no probe: wait=on would take it)."""
        end = time.monotonic() + self.opts.start_timeout
        for _ in range(5):
            while time.monotonic() < end:
                if self.proc.poll() is not None:
                    break
                try:
                    return super()._connect()
                except LinkError:
                    time.sleep(0.05)
            if self.proc.poll() is None or b"Address already in use" not in self._log_bytes():
                break
            self._start()  # the free port was taken between probe and bind: another one
        code = self.exit_status()
        why = f"exited with {code}" if code is not None else f"did not listen within {self.opts.start_timeout:g} s"
        raise TargetError(f"target {self.target.name}: QEMU {why}: {self._log_tail()}")

    def _log_bytes(self) -> bytes:
        try:
            with open(os.path.join(self._tmp.name, "qemu.log"), "rb") as f:
                return f.read()
        except OSError:
            return b""

    def _log_tail(self) -> str:
        return " | ".join(self._log_bytes().decode(errors="replace").strip().splitlines()[-3:])

    def monitor(self, command: str, timeout: float = 5.0) -> str:
        """Send one HMP command (e.g. 'system_reset') to this QEMU's monitor; its output."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(self._monitor_path())
            s.sendall(command.encode() + b"\n")
            out, end = b"", time.monotonic() + timeout
            while time.monotonic() < end and out.count(b"(qemu)") < 2:
                try:
                    chunk = s.recv(4096)
                except socket.timeout:
                    break
                if not chunk:
                    break
                out += chunk
            return out.decode(errors="replace")

    @contextlib.contextmanager
    def _explained(self):
        """A link failure because QEMU itself ended says so, with its exit status and log."""
        try:
            yield
        except TargetError:
            code = self._wait_exit()
            if code is None:
                raise
            why = _EXIT_MEANING.get(code, "QEMU stopped")
            raise TargetError(f"target {self.target.name}: QEMU exited with status {code} ({why}); "
                              f"log: {self._log_tail() or '(empty)'}") from None

    def _wait_exit(self, timeout: float = 1.0) -> int | None:
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def exit_status(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def _stop_proc(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def _shutdown(self) -> None:
        """Stop QEMU and remove its folder (the driver closes its stream first)."""
        self._stop_proc()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        _LIVE.discard(self)


@register("qemu")
class QemuDriver(QemuProcess, McuDriver):
    """See the module docstring."""

    options_class = QemuOptions

    def elf(self) -> Path:
        o = self.opts
        return Path(o.elf) if o.elf else ROOT / "firmware" / "build" / o.board / "harness.elf"

    def build(self) -> None:
        """make -C firmware BOARD=<board> (make decides whether the ELF is stale)."""
        if not self.opts.build or self.opts.elf:
            return
        r = subprocess.run(["make", "-C", str(ROOT / "firmware"), f"BOARD={self.opts.board}"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            tail = " | ".join((r.stderr or r.stdout).strip().splitlines()[-3:])
            raise TargetError(f"target {self.target.name}: firmware build failed (make -C firmware "
                              f"BOARD={self.opts.board}): {tail}")

    def time_unit(self, facts: dict) -> str:
        return "instructions" if self.opts.icount is not None else "cycles"

    def tick_scale(self) -> float:
        if self.opts.icount is None:
            return 1.0
        return icount_tick_scale(self.opts.icount, self.opts.clock_hz, getattr(self, "hello_facts", None))

    def open(self) -> TargetInfo:
        self.watcher.phase("firmware build")
        self.build()
        try:
            self.watcher.phase("boot")
            self._launch()
            info = super().open()
        except BaseException:
            self.close()
            raise
        facts = {**info.facts, **self.qemu_facts(),
                 "time_note": ("instructions counted by QEMU -icount (SysTick ticks x "
                               f"{self.tick_scale():g}); not cycles of a real core")
                 if self.opts.icount is not None else "SysTick follows host time without -icount"}
        return TargetInfo(info.name, info.kind, info.board, info.cpu, info.time_unit, info.clock_hz,
                          info.boot_id, facts, elf.sizes(self.elf()))

    def load(self, model: bytes, name: str):
        with self._explained():
            return super().load(model, name)

    def run(self, inputs):
        with self._explained():
            return super().run(inputs)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._shutdown()


@atexit.register
def _close_all() -> None:
    for d in list(_LIVE):
        d.close()
