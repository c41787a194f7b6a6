"""The link under damage: a proxy corrupts/drops ~1 byte in 2000 both ways plus a burst of 300
lost bytes, and QEMU's monitor resets the board once mid-run. 1000 inferences must come back
identical to a clean run (outputs and instruction counts), with the retries and the reboot
counted."""

from __future__ import annotations

import numpy as np

from tests.common import shared_model
from tests.mcu.mcu_util import clean_qemu_run, proxied_qemu

N = 1000


def test_thousand_inferences_through_a_damaging_link():
    data = shared_model("tflm/hello_world_int8.tflite").read_bytes()
    want, xs = clean_qemu_run(data, N, seed=3)
    print("clean run retries", want.retries)
    with proxied_qemu(rate=1 / 2000, burst_after=30_000, burst=300, seed=7, frame_timeout=0.3, retries=20) as d:
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
