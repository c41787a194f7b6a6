"""The MLPerf Tiny image's command parser (firmware/eembc) as a native process under ASan/UBSan:
hostile and random commands get one well-formed line each and never crash it; a sample sent
the protocol's way gives the TFLM oracle's outputs."""

from __future__ import annotations

import random
import re
import subprocess

import numpy as np
import pytest

from harness.drivers.eembc import values as ev
from harness.drivers.eembc.client import parse_infer
from tests.common import MODELS, ROOT
from tests.eembc.eembc_util import oracle

# Every line the image may print: protocol messages, errors, and the `help` text.
LINE = re.compile(r"(m-[\x20-\x7e]*|e-\[[\x20-\x7e]*\]|[\x20-\x7e]*)")


@pytest.fixture(scope="module")
def native() -> str:
    r = subprocess.run(["make", "-s", "-C", str(ROOT / "firmware"), "eembc-native", "SAN=1"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    return str(ROOT / "firmware" / "build" / "native-san" / "eembc")


def talk(exe: str, data: bytes, *args: str) -> list[str]:
    r = subprocess.run([exe, str(MODELS / "digits_int8.tflite"), *args], input=data, capture_output=True, timeout=60)
    assert r.returncode == 0 and b"ERROR: AddressSanitizer" not in r.stderr and b"runtime error" not in r.stderr, \
        r.stderr.decode(errors="replace")[-2000:]
    return r.stdout.decode("ascii").split("\r\n")[:-1]


def replies(lines: list[str]) -> list[list[str]]:
    """Lines grouped per command (each ends with m-ready); the boot banner first."""
    out, cur = [], []
    for x in lines:
        if x == "m-ready":
            out.append(cur)
            cur = []
        else:
            cur.append(x)
    assert cur == [], cur
    return out


HOSTILE = [
    (b"x" * 81, ["e-[Command longer than 80 characters]"]),
    (b"db", ["e-[Command 'db' requires a subcommand]"]),
    (b"db load", ["e-[Command 'db load' requires the # of bytes]"]),
    (b"db load 0", ["e-[Command 'db load' must be >0 bytes, got '0']"]),
    (b"db load -5", ["e-[Command 'db load' must be >0 bytes, got '-5']"]),
    (b"db load 99999999999", ["e-[Command 'db load' must be >0 bytes, got '99999999999']"]),
    (b"db load 999999", ["e-[db load 999999 exceeds the buffer of 28672 bytes]"]),
    (b"db 0102", ["e-[db data before 'db load N']"]),
    (b"infer 0", ["e-[Inference iterations must be >0, got '0']"]),
    (b"infer 1 x", ["e-[Inference warmup must be >=0, got 'x']"]),
    (b"infer 1 0", ["e-[Input db has 0 bytes, expected 64]"]),
    (b"frob", ["e-[Unknown command: frob]"]),
    (b"", []),
    (b"   ", []),
    (b"db load 2", ["m-[Expecting 2 bytes]"]),
    (b"db 012", ["e-[Insufficent number of hex digits]"]),
    (b"db 01zz", ["e-[Invalid hex digit 'z']"]),
    (b"db 01020304", ["m-load-done"]),  # digits past N bytes are dropped, as the reference does
    (b"db 05", ["e-[db data after the 2 bytes were loaded]"]),
    (b"db print", ["m-buffer-01-02"]),
]


def test_hostile_commands_get_one_error_line_each(native):
    got = replies(talk(native, b"".join(c + b"%" for c, _ in HOSTILE)))
    assert got[0][0] == "m-timestamp-mode-performance" and got[0][-1] == "m-init-done"
    assert got[1:] == [want for _, want in HOSTILE]


def test_random_commands_never_crash_it(native):
    rng = random.Random(14)
    words = [b"db", b"load", b"print", b"infer", b"results", b"name", b"profile", b"timestamp", b"help", b"0", b"1",
             b"64", b"ff", b"00" * 20, b"\xff", b"\x00", b"\r\n", b"%", b"-1", b"4294967296"]
    data = b"".join(b" ".join(rng.choice(words) for _ in range(rng.randrange(0, 6))) + b"%" for _ in range(3000))
    lines = talk(native, data + b"db load 64%" + b"".join(b"db " + b"7f" * 32 + b"%" for _ in range(2)))
    assert all(LINE.fullmatch(x) for x in lines)
    assert lines[-2:] == ["m-load-done", "m-ready"]


def test_a_sample_gives_the_oracles_outputs(native):
    model = (MODELS / "digits_int8.tflite").read_bytes()
    x = np.random.default_rng(3).integers(-128, 128, (4, 8, 8, 1)).astype(np.int8)
    spec = ev.TensorSpec("y", (1, 10), "int8", 1 / 256, -128)
    for fmt, rule in (("1", "round"), ("0", "truncate"), ("2", None)):
        cmds = b""
        for row in x:
            cmds += b"db load 64%" + b"".join(b"db " + row.tobytes()[i:i + 31].hex().encode() + b"%"
                                              for i in range(0, 64, 31)) + b"infer 1 0%"
        got = replies(talk(native, cmds, "digits", "0", fmt))
        infers = [parse_infer(r, 1, 0, "native") for r in got[1:] if r and r[0].startswith("m-warmup")]
        q = [ev.recover_int8(i.values, spec, rule).q if rule else np.array(i.values, int) for i in infers]
        assert np.array_equal(np.stack(q), oracle(model, x)), fmt
