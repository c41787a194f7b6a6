"""A noisy link (tests/mcu/fault_proxy.py corrupting or dropping one byte in 200 or 100, both
ways): with the default options the run adapts its chunk size and comes back identical to a
clean run (outputs and instruction counts); a link that loses nearly everything fails in
bounded time saying so ("link too noisy: 96 % of the last 256 frames re-sent …"), not "no HELLO;
check that the board is powered". The chunk control itself: test_chunk_follows_the_losses."""

from __future__ import annotations

import time

import numpy as np
import pytest

from harness.protocol.noise import GROW_AFTER, MIN_CHUNK, RECENT, LinkTooNoisy, Noise
from tests.common import shared_model
from tests.mcu.mcu_util import clean_qemu_run, proxied_qemu

N = 1000


def _noisy_run(rate: float, seed: int, n: int = N):
    """(result, want, seconds, link) of n inferences through the proxy, default options."""
    data = shared_model("tflm/hello_world_int8.tflite").read_bytes()
    want, xs = clean_qemu_run(data, N, seed=3)
    t0 = time.monotonic()
    with proxied_qemu(rate=rate, seed=seed) as d:
        d.open()
        d.load(data, "hello_world")
        got = d.run([x[:n] for x in xs])
        stats = dict(d.proxy.stats)
        link = d.link
    print(f"1/{1 / rate:g}: {time.monotonic() - t0:.1f} s, {got.retries} retries, chunk {link.noise.chunk}, "
          f"{link.noise.damaged} damaged frames, proxy {stats}")
    return got, want, time.monotonic() - t0, link


def _assert_identical(got, want, n: int) -> None:
    assert np.array_equal(got.outputs[0], want.outputs[0][:n])
    assert not (got.ticks - want.ticks[:n]).any()  # -icount: a re-sent request never runs twice


def test_one_byte_in_200_with_the_default_options():
    got, want, _, link = _noisy_run(1 / 200, seed=7)
    _assert_identical(got, want, N)
    assert got.retries > 100 and link.noise.chunk < 2048 and link.noise.damaged > 100


@pytest.mark.long
def test_one_byte_in_100_completes_or_says_the_link_is_too_noisy():
    t0 = time.monotonic()
    try:
        got, want, _, _ = _noisy_run(1 / 100, seed=8)
    except LinkTooNoisy as e:
        assert "link too noisy" in str(e)
    else:
        _assert_identical(got, want, N)
    assert time.monotonic() - t0 < 300


def test_a_link_that_loses_nearly_everything_says_so():
    data = shared_model("tflm/hello_world_int8.tflite").read_bytes()
    t0 = time.monotonic()
    with proxied_qemu(rate=1 / 4, seed=3, hello_timeout=3.0) as d:  # HELLO itself cannot pass
        with pytest.raises(LinkTooNoisy, match=r"no HELLO within 3 s, but \d+ damaged frames arrived: the target "
                                               r"answers and the link is too noisy"):
            d.open()
    with proxied_qemu(rate=0.0, seed=3) as d:  # the noise starts after the load
        d.open()
        d.load(data, "hello_world")
        d.proxy.rate = 1 / 6
        with pytest.raises(LinkTooNoisy, match=r"link too noisy: \d+ % of the last \d+ frames re-sent, \d+ % of "
                                               r"the last \d+ lost, \d+ damaged frames received "
                                               r"\(chunk now \d+ bytes\)"):
            d.run([np.zeros((200, 1), np.int8)])
    assert time.monotonic() - t0 < 60


def test_chunk_follows_the_losses():
    """Losses shrink the chunk (fast while most frames die), a clean stretch grows it back, and
    only the smallest chunk losing nearly everything is hopeless."""
    n = Noise()
    n.limit(4096, first=True)
    assert n.chunk == 4096
    for _ in range(4):
        n.loss()
    assert n.chunk == 4096 // 16  # nothing got through: a quarter, twice
    while n.chunk > MIN_CHUNK:
        n.loss()
        n.answered()
    n.check("x")  # a few losses at the smallest chunk: not yet hopeless
    for _ in range(12):
        for _ in range(GROW_AFTER):
            n.answered()
    assert n.chunk == 4096
    n.limit(1024, first=False)  # a later HELLO keeps what the noise taught, within the new maximum
    assert n.chunk == 1024
    while n.chunk > MIN_CHUNK:
        n.loss()
    for _ in range(RECENT):
        n.loss()
    with pytest.raises(LinkTooNoisy, match=r"^x: link too noisy: 0 % of the last 0 frames re-sent, 100 % of the "
                                           r"last 256 lost"):
        n.check("x")
