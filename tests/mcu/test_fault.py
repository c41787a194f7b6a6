"""The link under damage: a proxy corrupts/drops ~1 byte in 2000 both ways plus a burst of 300
lost bytes, and QEMU's monitor resets the board once mid-run. 1000 inferences must come back
identical to a clean run (outputs and instruction counts), with the retries and the reboot
counted."""

from __future__ import annotations

import threading

import numpy as np

from fault_proxy import FaultProxy
from mcu_util import qemu_driver, random_inputs, shared_model

from harness.drivers.mcu import McuDriver

N = 1000


def _proxied(**options):
    d = qemu_driver(**options)

    class Proxied(type(d)):
        def _connect(self):
            self.proxy = FaultProxy(self._port, rate=1 / 2000, burst_after=30_000, burst=300, seed=7,
                                    on_bytes=self._maybe_reset)
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
    return d


def test_thousand_inferences_through_a_damaging_link():
    data = shared_model("tflm/hello_world_int8.tflite")
    with qemu_driver() as clean:
        clean.open()
        li = clean.load(data, "hello_world")
        xs = random_inputs(li.inputs, N, seed=3)
        want = clean.run(xs)
    print("clean run retries", want.retries)
    with _proxied(frame_timeout=0.3, retries=20) as d:
        d.open()
        boot0 = d.link.boot_id
        d.load(data, "hello_world")
        d.reset_at = d.proxy.stats["to_target"] + 20_000  # mid-run
        got = d.run(xs)
        stats = dict(d.proxy.stats)
        assert d.reboots == 1 and d.link.boot_id != boot0
    assert np.array_equal(got.outputs[0], want.outputs[0])
    # Instruction counts: identical to the clean run's (-icount sleep=off, docs/mcu.md).
    dt = got.ticks - want.ticks
    assert not dt.any(), [(int(i), int(dt[i])) for i in np.nonzero(dt)[0]]
    assert stats["burst"] == 300 and stats["corrupted"] + stats["dropped"] >= 10, stats
    assert got.retries >= 10, (got.retries, stats)
    print(f"retries {got.retries}, reboots 1, proxy {stats}")
