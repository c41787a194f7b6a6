"""Sessions and splitting on the firmware's link layer (native target on pipes, ASan/UBSan): a
stray HELLO ends the host's session, a session is renewed before its seq wraps, a late boot
HELLO is no reboot, another protocol version is refused by name, and a link that cannot carry
big frames still loads, runs and reads back per-layer tensors identical to a clean link."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from harness.errors import TargetError
from harness.protocol import wire
from harness.protocol.link import SESSION_RENEW, Link
from harness.protocol.requests import Req, SessionLost, TargetRebooted
from tests.mcu.fault_proxy import BigFrameDamager
from tests.mcu.mcu_util import ROOT, PipeStream, native_driver, native_target_binary

DIGITS = ROOT / "models" / "digits_int8.tflite"
SINK0 = struct.pack("<I", 0)  # SINK of 0 raw bytes: the cheapest request with a reply


@pytest.fixture
def native():
    stream = PipeStream([str(native_target_binary()), str(1 << 20), str(1 << 20)])
    link = Link(stream, "native", frame_timeout=0.3, retries=5, window=8)
    link.hello(5)
    yield link
    err = stream.close()
    assert "ERROR: AddressSanitizer" not in err and "runtime error" not in err, err


def test_a_stray_hello_ends_the_session(native):
    native.request(wire.SINK, SINK0)
    native.stream.write(wire.encode(wire.HELLO, native.session + 1000, 0, wire.pack_hello_request(7)))
    with pytest.raises(SessionLost, match=r"native: the target left this session for session [0-9a-f]{8}"):
        native.request(wire.SINK, SINK0)
    session = native.session
    native.hello(5)
    assert native.session != session and native.request(wire.SINK, SINK0) == b""


def test_session_renewed_before_its_seq_wraps(native):
    session, boot_id = native.session, native.boot_id
    native.seq = SESSION_RENEW + 1
    assert native.request(wire.SINK, SINK0) == b""
    assert native.session != session and native.seq == 1 and native.boot_id == boot_id


def test_a_late_boot_hello_is_no_reboot(native):
    def boot_hello(boot_id: str) -> wire.Frame:
        return wire.Frame(wire.HELLO | wire.REPLY, 0, 0, wire.pack_hello({"boot": 1, "boot_id": boot_id}), 0)

    native._check_boot(boot_hello(native.boot_id))  # a copy of this boot's announcement
    with pytest.raises(TargetRebooted, match="rebooted"):
        native._check_boot(boot_hello("00000002deadbeef"))


class _Version1Target:
    """Answers HELLO as a target of another protocol version would (its JSON, our framing)."""

    def __init__(self) -> None:
        self.decoder, self.out = wire.Decoder(), b""

    def write(self, data: bytes) -> None:
        for f in self.decoder.feed(data):
            nonce = struct.unpack_from("<I", f.body)[0]
            self.out += wire.encode(f.type | wire.REPLY, f.session, f.seq,
                                    wire.pack_hello({"version": 1, "nonce": nonce, "boot_id": "x"}))

    def read(self, n: int) -> bytes:
        data, self.out = self.out, b""
        return data


def test_another_protocol_version_is_refused_by_name():
    with pytest.raises(TargetError, match=r"^old: the target speaks protocol version 1, this host 2; rebuild and "
                                          r"flash the firmware"):
        Link(_Version1Target(), "old").hello(2)


def test_requests_split_to_the_chunk():
    chunk = Req(wire.LOAD_CHUNK, wire.pack_offset_data(100, bytes(range(250))), data_at=4)
    parts = chunk.split(64)
    assert [wire.unpack_offset_data(p.body)[0] for p in parts] == [100, 164, 228, 292]
    assert b"".join(wire.unpack_offset_data(p.body)[1] for p in parts) == bytes(range(250))
    inp = Req(wire.SET_INPUT, wire.pack_set_input(2, 10, b"abcdefg"), data_at=5)
    assert [wire.unpack_set_input(p.body) for p in inp.split(3)] == [(2, 10, b"abc"), (2, 13, b"def"), (2, 16, b"g")]
    out = Req(wire.GET_OUTPUT, wire.pack_get_output(1, 8, 10), reads=True)
    assert [p.body for p in out.split(4)] == [wire.pack_get_output(1, o, n) for o, n in ((8, 4), (12, 4), (16, 2))]
    ten = Req(wire.GET_TENSOR, wire.pack_get_tensor(300, 0, 5), reads=True)
    assert [p.body for p in ten.split(4)] == [wire.pack_get_tensor(300, 0, 4), wire.pack_get_tensor(300, 4, 1)]
    assert Req(wire.INVOKE, wire.pack_invoke(1)).split(1) == [Req(wire.INVOKE, wire.pack_invoke(1))]


def _digits_session(filters=None):
    """Load digits, run 20 inferences and read every layer's output for one: (outputs, tensors, link)."""
    if not DIGITS.exists():
        pytest.skip(f"{DIGITS} missing (tools/make_models.py generates it)")
    x = np.random.default_rng(2).integers(-128, 128, (20, 8, 8, 1), dtype=np.int8)
    with native_driver(native_target_binary(), filters) as d:
        d.open()
        d.load(DIGITS.read_bytes(), "digits")
        res = d.run([x])
        tensors = d.tensors([x[3]])
        return res.outputs[0], tensors, d.link


def test_a_link_that_cannot_carry_big_frames():
    """Frames over 500 bytes arrive damaged both ways: the 2 KB chunks of the upload and the
    per-layer GET_TENSOR replies must shrink, and those already sent run again split, in a new
    session (the full HELLO reply, ~420 bytes, still passes)."""
    want_out, want_tensors, _ = _digits_session()
    filters = (BigFrameDamager(500), BigFrameDamager(500))
    got_out, got_tensors, link = _digits_session(filters)
    assert np.array_equal(got_out, want_out)
    assert want_tensors.keys() == got_tensors.keys()
    assert all(np.array_equal(got_tensors[k], want_tensors[k]) for k in want_tensors)
    assert filters[0].damaged > 0 and filters[1].damaged > 0 and link.noise.chunk < 500
    assert link.retries > 0  # (the first 2 KB chunks could only pass split, in a new session)
