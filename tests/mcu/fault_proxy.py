"""A TCP proxy on 127.0.0.1 that damages the byte stream both ways: each byte is corrupted or
dropped with probability `rate`, and once, after `burst_after` bytes host→target, `burst`
bytes in a row are lost. `on_bytes(n)` is called with the host→target count (tests reset the
target from it). With `replay` (a Replayer per direction, True = host→target) it also delivers
copies of earlier frames late; FilteredStream does the same to any link stream (pipes)."""

from __future__ import annotations

import random
import selectors
import socket
import threading
import time
from typing import Sequence


class Replayer:
    """One direction of a byte stream, frame-aware (0x00 ends a frame): every `every`-th frame
    from `start` on is copied, and the copy delivered again as the d-th frame after the original
    (d − 1 frames between them), d taken from `delays` in turn. With d = 256 or 768 an 8-bit
    sequence number has wrapped to the same value: the copy arrives just as its seq is the next
    one expected (host → target) or awaited (target → host)."""

    def __init__(self, delays: Sequence[int], every: int = 97, start: int = 20) -> None:
        self.delays, self.every, self.start = list(delays), every, start
        self.frames = 0  # frames passed through (copies not counted)
        self.copies: dict[int, int] = {d: 0 for d in self.delays}  # delay → copies delivered
        self._frame = bytearray()
        self._due: dict[int, list[tuple[int, bytes]]] = {}  # frame count → (delay, copy) to send after it

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        pos = 0
        while True:
            z = data.find(b"\x00", pos)
            piece = data[pos:] if z < 0 else data[pos:z + 1]
            out += piece
            self._frame += piece
            if z < 0:
                return bytes(out)
            if len(self._frame) > 1:  # a frame, not a stray delimiter
                self._one_frame(bytes(self._frame))
                for d, copy in self._due.pop(self.frames, []):
                    out += copy
                    self.copies[d] += 1
            self._frame.clear()
            pos = z + 1

    def _one_frame(self, frame: bytes) -> None:
        self.frames += 1
        k = self.frames - self.start
        if k >= 0 and k % self.every == 0:
            d = self.delays[(k // self.every) % len(self.delays)]
            self._due.setdefault(self.frames + d - 1, []).append((d, frame))


class BigFrameDamager:
    """One direction of a byte stream: every frame longer than `limit` bytes (delimiter included)
    arrives damaged (a byte in its middle changed, never to 0x00), the rest intact — a link that
    cannot carry big frames. Frames are passed on whole, when their delimiter arrives."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.damaged = 0
        self._frame = bytearray()

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        pos = 0
        while True:
            z = data.find(b"\x00", pos)
            if z < 0:
                self._frame += data[pos:]
                return bytes(out)
            frame = self._frame + data[pos:z + 1]
            self._frame = bytearray()
            if len(frame) > self.limit:
                m = len(frame) // 2
                frame[m] = frame[m] ^ 1 or 3  # still non-zero: the frame ends where it did, its CRC fails
                self.damaged += 1
            out += frame
            pos = z + 1


class FilteredStream:
    """A link stream (read/write/close) whose bytes pass a filter per direction (a Replayer, a
    BigFrameDamager: anything with feed(bytes) -> bytes)."""

    def __init__(self, inner, to_target: Replayer, to_host: Replayer) -> None:
        self.inner, self.to_target, self.to_host = inner, to_target, to_host

    def write(self, data: bytes) -> None:
        self.inner.write(self.to_target.feed(data))

    def read(self, n: int) -> bytes:
        return self.to_host.feed(self.inner.read(n))

    def close(self):
        return self.inner.close()


class FaultProxy:
    def __init__(self, upstream_port: int, rate: float = 1 / 2000, burst_after: int = 0, burst: int = 0,
                 seed: int = 0, on_bytes=None, replay: dict[bool, Replayer] | None = None) -> None:
        self.upstream_port, self.rate, self.burst_after, self.burst = upstream_port, rate, burst_after, burst
        self.replay = replay or {}
        self.rng = random.Random(seed)
        self.on_bytes = on_bytes
        self.stats = {"corrupted": 0, "dropped": 0, "burst": 0, "to_target": 0, "to_host": 0}
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self, timeout: float = 20.0) -> None:
        end = time.monotonic() + timeout
        while True:
            try:
                self._up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=1)
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)
        self._thread.start()

    def _damage(self, data: bytes, to_target: bool) -> bytes:
        out = bytearray()
        key = "to_target" if to_target else "to_host"
        for b in data:
            self.stats[key] += 1
            if to_target and self.burst and self.stats[key] > self.burst_after and self.stats["burst"] < self.burst:
                self.stats["burst"] += 1
                continue
            if self.rng.random() < self.rate:
                if self.rng.random() < 0.5:
                    self.stats["dropped"] += 1
                    continue
                self.stats["corrupted"] += 1
                b ^= self.rng.randrange(1, 256)
            out.append(b)
        return bytes(out)

    def _serve(self) -> None:
        self._listener.settimeout(20)
        down, _ = self._listener.accept()
        for s in (down, self._up):  # small frames: no Nagle delay (QEMU and the link set it too)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sel = selectors.DefaultSelector()
        sel.register(down, selectors.EVENT_READ, (down, self._up, True))
        sel.register(self._up, selectors.EVENT_READ, (self._up, down, False))
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(0.1):
                    src, dst, to_target = key.data
                    data = src.recv(65536)
                    if not data:
                        return
                    if to_target in self.replay:
                        data = self.replay[to_target].feed(data)
                    dst.sendall(self._damage(data, to_target))
                    if to_target and self.on_bytes:
                        self.on_bytes(self.stats["to_target"])
        except OSError:
            return
        finally:
            down.close()
            self._up.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(2)
