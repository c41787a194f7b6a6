"""A TCP proxy on 127.0.0.1 that damages the byte stream both ways: each byte is corrupted or
dropped with probability `rate`, and once, after `burst_after` bytes host→target, `burst`
bytes in a row are lost. `on_bytes(n)` is called with the host→target count (tests reset the
target from it)."""

from __future__ import annotations

import random
import selectors
import socket
import threading
import time


class FaultProxy:
    def __init__(self, upstream_port: int, rate: float = 1 / 2000, burst_after: int = 0, burst: int = 0,
                 seed: int = 0, on_bytes=None) -> None:
        self.upstream_port, self.rate, self.burst_after, self.burst = upstream_port, rate, burst_after, burst
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
