"""The byte bridge of an emulated lab board (locallab/board.py): one client ⇄ QEMU's UART.

Non-blocking with a buffer per direction, so neither side can stall the other (QEMU takes host
bytes only as fast as the guest reads them, ~28 KB/s, while the guest may be writing a reply).
The client end is a TCP listener (one connection at a time, a new one replaces the old) or a pty whose slave a ser2net
opens per RFC 2217 connection; the pty stays when the board is power-cycled, like a USB-serial
adapter. Bytes for a side that is absent (no client, board off) are dropped, as on a wire.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import tty
from pathlib import Path

CHUNK = 1 << 16
HIGH_WATER = 1 << 18  # stop reading a side while the other side's buffer holds this much


class _Buffered:
    """An end with an outgoing buffer; subclasses say how bytes leave (_send)."""

    out: bytearray

    def _send(self, data: bytearray) -> int:
        raise NotImplementedError

    def flush(self) -> bool:
        """Send what the buffer holds; False once the peer is gone."""
        try:
            n = self._send(self.out)
        except BlockingIOError:
            return True
        except OSError:
            return False
        del self.out[:n]
        return True


class TcpEnd(_Buffered):
    """A connected, non-blocking socket with its outgoing buffer."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.out = sock, bytearray()

    @staticmethod
    def listen(port: int) -> "TcpListener":
        return TcpListener.open(port)

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> bytes | None:
        """Some bytes, b"" if none yet, None once the peer closed."""
        try:
            data = self.sock.recv(CHUNK)
        except BlockingIOError:
            return b""
        except OSError:
            return None
        return data or None

    def _send(self, data: bytearray) -> int:
        return self.sock.send(data)

    def close(self) -> None:
        self.sock.close()


class TcpListener:
    """127.0.0.1:PORT; accept() gives a TcpEnd."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @classmethod
    def open(cls, port: int) -> "TcpListener":
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(2)
        sock.setblocking(False)
        return cls(sock)

    def fileno(self) -> int:
        return self.sock.fileno()

    def accept(self) -> TcpEnd | None:
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return None
        return TcpEnd(conn)

    def close(self) -> None:
        self.sock.close()


class PtyEnd(_Buffered):
    """The master of a pty whose slave (path: a symlink to /dev/pts/N) ser2net opens per connection."""

    def __init__(self, master: int, link: Path) -> None:
        self.master, self.link, self.out = master, link, bytearray()

    @classmethod
    def create(cls, link: Path) -> "PtyEnd":
        master, slave = os.openpty()
        tty.setraw(slave)  # binary: no echo, no CR/LF translation
        name = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(master, False)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(name)
        return cls(master, link)

    def fileno(self) -> int:
        return self.master

    def present(self) -> bool:
        """Is the slave open (a ser2net connection)? The master reports HUP while nobody has it."""
        p = select.poll()
        p.register(self.master, select.POLLIN)
        return not any(ev & select.POLLHUP for _, ev in p.poll(0))

    def read(self) -> bytes | None:
        try:
            return os.read(self.master, CHUNK)
        except BlockingIOError:
            return b""
        except OSError as e:
            if e.errno == errno.EIO:  # slave closed
                return None
            raise

    def _send(self, data: bytearray) -> int:
        return os.write(self.master, data)

    def close(self) -> None:
        os.close(self.master)
        if self.link.is_symlink():
            self.link.unlink()


class Bridge:
    """Client end ⇄ board end. `client` is set while a client is connected; `board` while powered."""

    def __init__(self, end) -> None:
        self.end = end  # TcpListener or PtyEnd
        self.client = None
        self.board: TcpEnd | None = None
        self.board_closed = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)

    def wake(self) -> None:
        """Called from another thread: a control request is waiting."""
        os.write(self._wake_w, b"x")

    def attach_board(self, end: TcpEnd) -> None:
        """The board was powered on: its UART socket."""
        self.detach_board()
        self.board, self.board_closed = end, False
        self._drop()

    def detach_board(self) -> None:
        if self.board is not None:
            self.board.close()
        self.board = None

    def loop(self, between) -> None:
        while True:
            between()
            self._poll_once()

    def _poll_once(self) -> None:
        self._presence()
        p = select.poll()
        p.register(self._wake_r, select.POLLIN)
        if isinstance(self.end, TcpListener):
            p.register(self.end, select.POLLIN)
        for side, other in ((self.client, self.board), (self.board, self.client)):
            if side is not None:
                mask = select.POLLIN if other is None or len(other.out) < HIGH_WATER else 0
                p.register(side, mask | (select.POLLOUT if side.out else 0))
        for fd, ev in p.poll(100):
            self._event(fd, ev)

    def _presence(self) -> None:
        if isinstance(self.end, PtyEnd):
            here = self.end.present()
            if here != (self.client is not None):
                self.client = self.end if here else None
                self._drop()

    def _event(self, fd: int, ev: int) -> None:
        if fd == self._wake_r:
            os.read(self._wake_r, 4096)
        elif isinstance(self.end, TcpListener) and fd == self.end.fileno():
            conn = self.end.accept()
            if conn is not None:  # one client at a time: a new one replaces the old (ser2net kickolduser)
                if self.client is not None:
                    self.client.close()
                self.client = conn
                self._drop()
        elif self.client is not None and fd == self.client.fileno():
            self._move(self.client, self.board, ev, client=True)
        elif self.board is not None and fd == self.board.fileno():
            self._move(self.board, self.client, ev, client=False)

    def _move(self, src, dst, ev: int, client: bool) -> None:
        ok = True
        if ev & select.POLLOUT:
            ok = src.flush()
        if ok and ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
            data = src.read()
            if data is None:
                ok = False
            elif data and dst is not None:
                dst.out += data
        if not ok:
            self._lost(src, client)

    def _lost(self, src, client: bool) -> None:
        if client:
            if isinstance(src, TcpEnd):
                src.close()
            self.client = None
        else:
            self.detach_board()
            self.board_closed = True
        self._drop()

    def _drop(self) -> None:
        """A side came or went: bytes in flight belonged to the old conversation."""
        for side in (self.client, self.board):
            if side is not None:
                side.out.clear()

    def close(self) -> None:
        if self.client is not None and isinstance(self.client, TcpEnd):
            self.client.close()
        self.end.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
