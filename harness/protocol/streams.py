"""Byte streams a Link runs on (read(n) -> 1..n bytes or b"" after a short wait; write; close):
a pyserial object (SerialStream, any URL) and an SSH exec channel to the board agent (ChannelStream).

socket:// gets TCP_NODELAY (small frames must not wait for Nagle's algorithm: 46 ms → 1.6 ms
per round trip on QEMU's serial socket) and a direct select + recv read path (pyserial's
costs four system calls per read, which capped output reads at ~70 KB/s).
"""

from __future__ import annotations

import socket

from ..errors import LinkError


def open_url(url: str, baud: int, who: str):
    """A pyserial object for any pyserial URL, or a LinkError naming `who` and what to check."""
    import serial

    try:
        return serial.serial_for_url(url, baudrate=baud, timeout=0.02)
    except (serial.SerialException, OSError, ValueError) as e:
        raise LinkError(f"{who}: cannot open {url} ({e}); check the URL, cable and permissions (dialout group)") from None


class SerialStream:
    """A pyserial object as a stream: short blocking reads, EOF as LinkError."""

    def __init__(self, ser, where: str) -> None:
        self.ser, self.where = ser, where
        ser.timeout = 0.02
        self.sock = _raw_socket(ser)  # socket:// — small frames must not wait for Nagle
        if self.sock is not None:
            import socket

            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def read(self, n: int) -> bytes:
        import serial

        if self.sock is not None:  # socket://: one select + one recv (pyserial's path costs 4 syscalls)
            return self._read_socket(n)
        try:
            k = self.ser.in_waiting
            return self.ser.read(min(n, k) if k else 1)
        except (serial.SerialException, OSError) as e:
            raise LinkError(f"{self.where}: the link closed ({e})") from None

    def _read_socket(self, n: int) -> bytes:
        import select

        try:
            ready, _, _ = select.select([self.sock], [], [], self.ser.timeout)
            if not ready:
                return b""
            data = self.sock.recv(n)
        except OSError as e:
            raise LinkError(f"{self.where}: the link closed ({e})") from None
        if not data:
            raise LinkError(f"{self.where}: the link closed (the other end hung up)")
        return data

    def write(self, data: bytes) -> None:
        import serial

        try:
            self.ser.write(data)
        except (serial.SerialException, OSError) as e:
            raise LinkError(f"{self.where}: cannot write ({e})") from None

    def close(self) -> None:
        self.ser.close()


def _raw_socket(ser):
    """The TCP socket of a socket:// port, else None. An rfc2217:// port has a `_socket` too, but its
    bytes are telnet: pyserial's reader thread must decode them (reading it here lost every reply)."""
    from serial.urlhandler import protocol_socket

    return ser._socket if isinstance(ser, protocol_socket.Serial) else None


class ChannelStream:
    """A paramiko channel as a Link stream: short blocking reads, EOF/closure as LinkError.

    Writes are gathered and go out as one SSH packet before the next read: a window of frames
    costs one packet instead of one each (paramiko spends most of its time per packet).
    """

    def __init__(self, chan, where: str) -> None:
        self.chan, self.where = chan, where
        self.pending = bytearray()
        self.stderr = b""  # the last 4 KB the agent wrote to stderr, for error messages
        chan.settimeout(0.05)

    def read(self, n: int) -> bytes:
        self.flush()
        if self.chan.recv_stderr_ready():
            self._drain_stderr()  # unread stderr would use up the channel's window and stall the frames
        try:
            data = self.chan.recv(n)
        except socket.timeout:
            return b""
        except Exception as e:  # paramiko raises OSError, EOFError or SSHException when the link dies
            raise LinkError(f"{self.where}: the SSH link broke ({type(e).__name__}: {e})") from None
        if not data:
            status = f" (agent exit status {self.chan.recv_exit_status()})" if self.chan.exit_status_ready() else ""
            raise LinkError(f"{self.where}: the agent's SSH channel closed{status}{self.stderr_tail()}")
        return data

    def write(self, data: bytes) -> None:
        self.pending += data

    def flush(self) -> None:
        if not self.pending:
            return
        data, self.pending = bytes(self.pending), bytearray()
        try:
            self.chan.sendall(data)
        except Exception as e:  # as in read()
            raise LinkError(f"{self.where}: the SSH link broke ({type(e).__name__}: {e})") from None

    def stderr_tail(self) -> str:
        """The agent's last stderr line (e.g. `python3: not found`), as ': …' or ''."""
        self._drain_stderr()
        lines = self.stderr.decode(errors="replace").strip().splitlines()
        return f": {lines[-1][:300]}" if lines else ""

    def _drain_stderr(self) -> None:
        try:
            while self.chan.recv_stderr_ready():
                self.stderr = (self.stderr + self.chan.recv_stderr(1 << 16))[-4096:]
        except Exception:  # the channel is already gone: no more to say
            pass

    def close(self) -> None:
        self.chan.close()
