"""An emulated board for a lab on one machine: what an exporter host has for a real board.

    python -m harness.locallab.board --machine mps2-an386 --board mps2-an386 --serial raw:PORT --http PORT --dir DIR
    python -m harness.locallab.board ... --serial rfc2217:PORT      (a pty published by ser2net, RFC 2217)

- The UART is like a USB-serial adapter that stays when the board is power-cycled: a raw TCP port
  on 127.0.0.1, or a pty that a real `ser2net` publishes as RFC 2217 on 127.0.0.1 (locallab/ser2net.py).
  One client at a time; QEMU's UART is bridged to it through non-blocking buffers.
- Power speaks labgrid's `simplerest` NetworkPowerPort protocol (GET /power/1, /power/0, /power),
  so `labgrid-client power cycle` drives it; PUT /flash takes an ELF (the board restarts with it):
  the "small strategy of ours" for flashing an emulated board. POST /reset is a core reset,
  POST /hang freezes the core until the next power cycle (tests). GET /info says what it is.
- QEMU is QemuDriver's process (same command line, monitor, teardown) started paused (-S): it
  runs only while a client is connected, because an idle guest under `-icount sleep=off` costs
  about 0.6 of a core (docs/mcu.md).
Everything listens on 127.0.0.1 only; the ELF is written to DIR/firmware.elf and nowhere else.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from ..core.config import TargetConfig
from ..drivers.qemu import QemuDriver
from . import ser2net as lab_ser2net
from .bridge import Bridge, PtyEnd, TcpEnd
from .control import serve_control

KIND = "harness-qemu-board"
MAX_ELF = 16 << 20


class _BoardQemu(QemuDriver):
    """QemuDriver's QEMU process without the protocol: started paused, its UART bridged as bytes."""

    def command(self) -> list[str]:
        return super().command() + ["-S"]


class Board:
    """Power, flash and UART of one emulated board. Only the main loop thread touches it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.dir = Path(args.dir)
        self.firmware = self.dir / "firmware.elf"
        self.qemu: _BoardQemu | None = None
        self.powered = False  # the power switch; QEMU runs while it is on and there is firmware
        self.hung = False
        self.boots = 0
        self.running = False

    def _driver(self) -> _BoardQemu:
        opts = {"machine": self.args.machine, "board": self.args.board, "elf": str(self.firmware),
                "build": False, "icount": self.args.icount}
        return _BoardQemu(TargetConfig(kind="qemu", name=self.args.name, options=opts))

    def power_on(self, bridge: Bridge) -> None:
        self.powered = True
        if self.qemu is not None or not self.firmware.exists():
            return  # already on, or blank: a board without firmware stays silent
        import tempfile

        q = self._driver()
        q._tmp = tempfile.TemporaryDirectory(prefix="hb-board-", dir=self.dir)
        q._start()
        self.qemu, self.hung, self.running = q, False, False
        self.boots += 1
        bridge.attach_board(TcpEnd(_connect(q, self.args.start_timeout)))
        self.sync(bridge)

    def power_off(self, bridge: Bridge, switch: bool = True) -> None:
        self.powered = self.powered and not switch
        bridge.detach_board()
        if self.qemu is not None:
            self.qemu.close()
            self.qemu = None
        self.running = False

    def flash(self, data: bytes, bridge: Bridge) -> str:
        if not data.startswith(b"\x7fELF") or len(data) > MAX_ELF:
            raise ValueError("not an ELF file (or larger than 16 MB)")
        tmp = self.firmware.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, self.firmware)
        self.power_off(bridge, switch=False)
        if self.powered:
            self.power_on(bridge)
        return "ok"

    def sync(self, bridge: Bridge) -> None:
        """Run the core exactly while a client is connected (and the board is not frozen)."""
        want = self.qemu is not None and bridge.client is not None and not self.hung
        if want != self.running and self.qemu is not None:
            self.qemu.monitor("cont" if want else "stop")
            self.running = want

    def info(self) -> dict:
        return {"kind": KIND, "name": self.args.name, "machine": self.args.machine, "board": self.args.board,
                "icount": self.args.icount, "powered": self.powered, "running": self.running, "boots": self.boots,
                "firmware": self.firmware.exists(), "qemu_pid": self.qemu.proc.pid if self.qemu else None}

    def handle(self, op: str, body: bytes, bridge: Bridge):
        """One control request (from the HTTP thread, run here in the loop thread)."""
        if op == "power-get":
            return "1" if self.powered else "0"
        if op == "power-on":
            self.power_on(bridge)
        elif op == "power-off":
            self.power_off(bridge)
        elif op == "flash":
            return self.flash(body, bridge)
        elif op == "reset" and self.qemu is not None:
            self.qemu.monitor("system_reset")
        elif op == "hang" and self.qemu is not None:
            self.hung = True
            self.sync(bridge)
        elif op == "info":
            return self.info()
        return "ok"


def _connect(q: QemuDriver, timeout: float) -> socket.socket:
    """The client end of QEMU's UART socket (wait=on: QEMU starts once we are connected)."""
    end = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", q._port), timeout=1.0)
        except OSError:
            if q.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"QEMU did not start: {q._log_tail()}") from None
            time.sleep(0.05)


def _client_end(spec: str, directory: Path):
    """raw:PORT → a TCP listener on 127.0.0.1; rfc2217:PORT → a pty (ser2net runs beside)."""
    kind, _, port = spec.partition(":")
    if kind == "raw":
        return TcpEnd.listen(int(port))
    if kind == "rfc2217":
        return PtyEnd.create(directory / "uart.tty")
    raise SystemExit(f"--serial {spec!r}: use raw:PORT or rfc2217:PORT")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.locallab.board", description=__doc__.split("\n")[0])
    p.add_argument("--name", required=True)
    p.add_argument("--machine", required=True)
    p.add_argument("--board", required=True, help="firmware/port/<board>")
    p.add_argument("--serial", required=True, help="raw:PORT or rfc2217:PORT")
    p.add_argument("--http", type=int, required=True, help="control port on 127.0.0.1")
    p.add_argument("--dir", required=True)
    p.add_argument("--elf", help="initial firmware (default: none, a blank board)")
    p.add_argument("--icount", type=int, default=0)
    p.add_argument("--start-timeout", type=float, default=20.0)
    args = p.parse_args(argv)
    board = Board(args)
    board.dir.mkdir(parents=True, exist_ok=True)
    if args.elf:
        board.firmware.write_bytes(Path(args.elf).read_bytes())
    requests: queue.Queue = queue.Queue()
    bridge = Bridge(_client_end(args.serial, board.dir))
    ser2net = None
    if args.serial.startswith("rfc2217:"):
        ser2net = lab_ser2net.start(args.name, int(args.serial.split(":")[1]), bridge.end.link, board.dir)
    server = serve_control(args.http, requests, bridge.wake)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        board.power_on(bridge)
        bridge.loop(lambda: _serve(board, bridge, requests))
    finally:
        server.shutdown()
        board.power_off(bridge)
        if ser2net is not None:
            ser2net.terminate()
            ser2net.wait()
        bridge.close()
    return 0


def _serve(board: Board, bridge: Bridge, requests: queue.Queue) -> None:
    """Between bridge passes: answer control requests, follow client presence."""
    while True:
        try:
            op, body, reply = requests.get_nowait()
        except queue.Empty:
            break
        try:
            reply.put((True, board.handle(op, body, bridge)))
        except Exception as e:  # the HTTP client gets the reason; the board keeps running
            reply.put((False, f"{type(e).__name__}: {e}"))
    if bridge.board_closed:  # QEMU exited by itself (fault, semihosting exit): silent until power-cycled
        board.power_off(bridge, switch=False)
        bridge.board_closed = False
    board.sync(bridge)


if __name__ == "__main__":
    threading.current_thread().name = "board"
    sys.exit(main())
