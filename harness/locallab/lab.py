"""A labgrid lab on this machine, on loopback: for `make lab-demo`, CI and tests/lab.

A real labgrid-coordinator, real labgrid-exporter(s) publishing emulated boards (locallab/board.py:
QEMU + a UART that is raw TCP or a pty behind a real ser2net RFC 2217 port + power and flash over
HTTP), and one place per board with tags (board=<firmware port>, machine, cpu, serial). Every
process runs in its own process group; stop() ends them all (SIGTERM, then SIGKILL), and so do
atexit and, through PR_SET_PDEATHSIG, our death. Runtime files live in a temporary folder.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..drivers.labgrid.client import LabgridClient
from ..drivers.labgrid.flash import firmware_build
from ..errors import TargetError
from ..proc import child_env, die_with_parent

CPU = {"mps2-an386": "cortex-m4", "mps2-an500": "cortex-m7", "mps3-an547": "cortex-m55"}


@dataclass(frozen=True)
class BoardSpec:
    """One emulated board and its place."""

    name: str  # place name and exporter group
    machine: str = "mps2-an386"
    board: str = "mps2-an386"  # firmware/port/<board>
    serial: str = "raw"  # raw | rfc2217 (a pty behind ser2net)
    exporter: str = "lab-exp1"
    # current: this tree's build; stale: the same image reporting another build id (flashed on first
    # use); blank: no firmware (silent until flashed); or the path of an ELF
    firmware: str = "current"


@dataclass(frozen=True)
class ServiceSpec:
    """A Linux board reached over SSH: a place with a NetworkService (e.g. a loopback sshd)."""

    name: str
    address: str
    username: str
    port: int = 22
    exporter: str = "lab-exp1"
    tags: tuple[tuple[str, str], ...] = ()


DEMO_BOARDS = (BoardSpec("lab-m4-1", "mps2-an386", "mps2-an386", "rfc2217"),
               BoardSpec("lab-m7-1", "mps2-an500", "mps2-an500", "raw"),
               BoardSpec("lab-m4-2", "mps2-an386", "mps2-an386", "raw", firmware="stale"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class _Proc:
    name: str
    popen: subprocess.Popen
    log: Path


@dataclass
class LocalLab:
    """Construction does nothing; start() brings the lab up, stop() takes all of it down."""

    boards: tuple[BoardSpec, ...] = DEMO_BOARDS
    services: tuple[ServiceSpec, ...] = ()
    say: object = print
    coordinator: str = ""
    dir: Path | None = None
    ports: dict = field(default_factory=dict)  # board name -> {"serial": p, "http": p}
    procs: list = field(default_factory=list)
    _groups: list = field(default_factory=list)  # every process group started, for leftovers()

    def start(self) -> "LocalLab":
        self._tmp = tempfile.TemporaryDirectory(prefix="hb-lab-")
        self.dir = Path(self._tmp.name)
        atexit.register(self.stop)
        try:  # everything that does not depend on something else starts at once
            coordinator = self._start_coordinator()
            boards = [self._start_board(spec) for spec in self.boards]
            _wait(lambda: _listening(int(self.coordinator.rsplit(":", 1)[1])), 30, coordinator,
                  "labgrid-coordinator")
            self.say(f"labgrid-coordinator on {self.coordinator} (pid {coordinator.popen.pid})")
            for spec, proc in zip(self.boards, boards):
                self._board_ready(spec, proc)
            exporters = [self._start_exporter(e) for e in dict.fromkeys(b.exporter for b in self.boards + self.services)]
            self._exporters_ready(exporters)
            self._make_places()
        except BaseException:
            self.stop()
            raise
        return self

    def client(self) -> LabgridClient:
        return LabgridClient(self.coordinator)

    def _spawn(self, name: str, argv: list[str], cwd: Path | None = None) -> _Proc:
        log = self.dir / f"{name}.log"
        with open(log, "wb") as f:
            popen = subprocess.Popen(argv, cwd=cwd or self.dir, stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                                     env=child_env(PYTHONUNBUFFERED="1"),  # logs as they happen
                                     start_new_session=True, preexec_fn=die_with_parent)
        proc = _Proc(name, popen, log)
        self.procs.append(proc)
        self._groups.append(popen.pid)
        return proc

    def _start_coordinator(self) -> _Proc:
        port = free_port()
        self.coordinator = f"127.0.0.1:{port}"
        state = self.dir / "coordinator"
        state.mkdir()
        return self._spawn("coordinator", [sys.executable, "-m", "labgrid.remote.coordinator", "-l",
                                           self.coordinator], cwd=state)

    def _start_board(self, spec: BoardSpec) -> _Proc:
        ports = {"serial": free_port(), "http": free_port()}
        self.ports[spec.name] = ports
        argv = [sys.executable, "-m", "harness.locallab.board", "--name", spec.name, "--machine", spec.machine,
                "--board", spec.board, "--serial", f"{spec.serial}:{ports['serial']}", "--http",
                str(ports["http"]), "--dir", str(self.dir / spec.name)]
        if spec.firmware != "blank":
            argv += ["--elf", str(self._firmware(spec))]
        return self._spawn(f"board-{spec.name}", argv)

    def _board_ready(self, spec: BoardSpec, proc: _Proc) -> None:
        ports = self.ports[spec.name]
        _wait(lambda: _http_ok(f"http://127.0.0.1:{ports['http']}/info"), 30, proc, f"board {spec.name}")
        self.say(f"board {spec.name}: QEMU {spec.machine}, UART {spec.serial} on 127.0.0.1:{ports['serial']}"
                 + (" (ser2net RFC 2217 on a pty)" if spec.serial == "rfc2217" else "")
                 + {"blank": ", blank (no firmware yet)", "stale": ", running another build"}.get(spec.firmware, ""))

    def _firmware(self, spec: BoardSpec) -> Path:
        if spec.firmware not in ("current", "stale"):
            return Path(spec.firmware)
        fw = firmware_build(spec.board)
        if spec.firmware == "current":
            return fw.elf
        old = fw.elf.read_bytes()  # the id is a string in .rodata: same length, another value
        stale = self.dir / f"{spec.name}-stale.elf"
        stale.write_bytes(old.replace(fw.build.encode(), b"0" * len(fw.build)))
        return stale

    def exports(self, exporter: str) -> dict:
        """The exporter's resources YAML: static NetworkSerialPort + simplerest NetworkPowerPort per board."""
        out = {}
        for spec in self.boards:
            if spec.exporter != exporter:
                continue
            p = self.ports[spec.name]
            out[spec.name] = {
                "NetworkSerialPort": {"host": "127.0.0.1", "port": p["serial"], "protocol": spec.serial,
                                      "speed": 115200},
                "NetworkPowerPort": {"model": "simplerest", "host": f"http://127.0.0.1:{p['http']}/power/{{value}}",
                                     "index": 0}}
        for svc in self.services:
            if svc.exporter == exporter:
                out[svc.name] = {"NetworkService": {"address": svc.address, "username": svc.username,
                                                    "port": svc.port}}
        return out

    def _start_exporter(self, exporter: str) -> _Proc:
        cfg = self.dir / f"{exporter}.yaml"
        cfg.write_text(yaml.safe_dump(self.exports(exporter), sort_keys=False))
        return self._spawn(exporter, [sys.executable, "-m", "labgrid.remote.exporter", "-c", self.coordinator,
                                      "-n", exporter, "--hostname", "127.0.0.1", str(cfg)])

    def _exporters_ready(self, procs: list[_Proc]) -> None:
        want = {f"{b.exporter}/{b.name}/NetworkSerialPort" for b in self.boards}
        want |= {f"{s.exporter}/{s.name}/NetworkService" for s in self.services}
        seen: set[str] = set()

        def ready() -> bool:
            seen.clear()
            seen.update(self.client().run("resources").split())
            return want <= seen

        for proc in procs:  # each waits for the same condition; a dead exporter is named
            _wait(ready, 30, proc, f"labgrid-exporter {proc.name}")
        self.say(f"labgrid-exporter(s) {', '.join(p.name for p in procs)}: {', '.join(sorted(want))}")

    def _make_places(self) -> None:
        def one(spec) -> None:
            if isinstance(spec, BoardSpec):
                tags = {"board": spec.board, "machine": spec.machine, "cpu": CPU.get(spec.machine, "unknown"),
                        "serial": spec.serial}
            else:
                tags = dict(spec.tags)
            c = self.client()
            c.run("create", place=spec.name)
            c.run("add-match", f"{spec.exporter}/{spec.name}/*", place=spec.name)
            if tags:
                c.run("set-tags", *(f"{k}={v}" for k, v in tags.items()), place=spec.name)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, self.boards + self.services))
        self.say(f"places: {', '.join(b.name for b in self.boards + self.services)}")

    def proc(self, name: str) -> _Proc:
        return next(p for p in self.procs if p.name == name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one process group (e.g. an exporter with everything it started)."""
        _killpg(self.proc(name).popen, sig)

    def leftovers(self) -> list[str]:
        """Processes still alive in any process group this lab started (QEMU, ser2net included)."""
        groups = {p.popen.pid for p in self.procs} | set(self._groups)
        out = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) in groups and fields[0] != "Z":
                out.append(f"{stat.parent.name} {(stat.parent / 'comm').read_text().strip()}")
        return out

    def stop(self) -> None:
        """End every process group we started, newest first; safe to call twice."""
        atexit.unregister(self.stop)
        while self.procs:
            p = self.procs.pop()
            _killpg(p.popen, signal.SIGTERM)
            try:
                p.popen.wait(5)
            except subprocess.TimeoutExpired:
                _killpg(p.popen, signal.SIGKILL)
                p.popen.wait()
            _killpg(p.popen, signal.SIGKILL)  # children that outlived their leader (ser2net, QEMU)
        if getattr(self, "_tmp", None) is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "LocalLab":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _killpg(popen: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(popen.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _http_ok(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).read()
        return True
    except OSError:
        return False


def _wait(ready, timeout: float, proc: _Proc, what: str) -> None:
    end = time.monotonic() + timeout
    while not ready():
        if proc.popen.poll() is not None or time.monotonic() > end:
            tail = " | ".join(proc.log.read_text(errors="replace").strip().splitlines()[-3:])
            state = f"exited with {proc.popen.returncode}" if proc.popen.poll() is not None else "not ready"
            raise TargetError(f"{what} {state} after {timeout:g} s: {tail or '(no output)'}")
        time.sleep(0.1)
