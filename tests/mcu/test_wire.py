"""Frames: COBS/CRC round trips, a corrupt-frame stream over pyserial loop://, and the C side of
the link (firmware/serve/link.c + commands.c on stdio, ASan/UBSan) against hostile frames."""

from __future__ import annotations

import random
import struct
import zlib

import pytest
import serial

from harness.errors import HarnessError, LinkError, UnsupportedModel
from harness.protocol import wire
from harness.protocol.client import TargetClient
from harness.protocol.link import Link
from harness.protocol.requests import Req
from harness.protocol.streams import SerialStream
from tests.common import shared_model
from tests.mcu.mcu_util import PipeStream, native_target_binary


@pytest.mark.parametrize("n", [0, 1, 2, 253, 254, 255, 256, 507, 508, 509, 1000, 4100])
def test_cobs_round_trip_edges(n):
    rng = random.Random(n)
    for fill in ("zeros", "nonzero", "mixed"):
        if fill == "zeros":
            data = bytes(n)
        elif fill == "nonzero":
            data = bytes(rng.randrange(1, 256) for _ in range(n))
        else:
            data = bytes(rng.choice((0, 1, 255, rng.randrange(256))) for _ in range(n))
        enc = wire.cobs_encode(data)
        assert 0 not in enc
        assert len(enc) <= n + n // 254 + 1
        assert wire.cobs_decode(enc) == data


def test_frame_crc_is_zlib_and_damage_is_dropped():
    f = wire.encode(wire.LOAD_CHUNK, 0xDEADBEEF, 7, b"\x00\x01payload\x00")
    raw = wire.cobs_decode(f[:-1])
    assert struct.unpack("<I", raw[-4:])[0] == zlib.crc32(raw[:-4])
    assert raw[:9] == struct.pack("<BII", wire.LOAD_CHUNK, 0xDEADBEEF, 7)
    assert wire.decode(f[:-1]) == (wire.LOAD_CHUNK, 0xDEADBEEF, 7, b"\x00\x01payload\x00", zlib.crc32(raw[:-4]))
    for i in range(len(f) - 1):  # every single-byte corruption is caught
        bad = bytearray(f[:-1])
        bad[i] ^= 0x5A
        if 0 not in bad:
            assert wire.decode(bytes(bad)) is None
    assert wire.decode(wire.cobs_encode(b"\x01\x02\x03")) is None  # too short


def test_decoder_over_loop_url_drops_corrupt_frames():
    ser = serial.serial_for_url("loop://", timeout=0.05)
    stream = SerialStream(ser, "loop://")
    good = [wire.encode(wire.SET_INPUT, 1, s, bytes([s]) * (s * 37 % 900)) for s in range(40)]
    dec = wire.Decoder()
    frames = []
    for s, f in enumerate(good):
        if s % 5 == 3:  # corrupt one byte (not the delimiter) of every fifth frame
            f = bytearray(f)
            f[len(f) // 2] ^= 0xFF if f[len(f) // 2] != 0xFF else 0x0F
            f = bytes(f)
        if s % 7 == 6:  # and truncate another: its bytes merge into the next frame, both lost
            f = f[: len(f) // 2]
        stream.write(f)  # loop:// holds 4 KB: read back as we go
        for _ in range(3):
            frames += dec.feed(stream.read(1 << 16))
    stream.write(b"\x00")
    for _ in range(3):
        frames += dec.feed(stream.read(1 << 16))
    seqs = [f.seq for f in frames]
    assert all(f.body == bytes([f.seq]) * (f.seq * 37 % 900) for f in frames)
    assert 3 not in seqs and 8 not in seqs and 6 not in seqs
    assert len(seqs) + dec.dropped >= 40 - 5 and dec.dropped >= 8
    ser.close()


# ---- the C side, on stdio ----
@pytest.fixture(scope="module")
def target_bin():
    return native_target_binary()


@pytest.fixture
def native(target_bin):
    stream = PipeStream([str(target_bin), str(1 << 20), str(1 << 20)])
    link = Link(stream, "native", frame_timeout=0.3, retries=5, window=8)
    yield link
    err = stream.close()
    assert "ERROR: AddressSanitizer" not in err and "runtime error" not in err, err


def test_native_target_hello_and_boot_announcement(native):
    facts = native.hello(5)
    assert facts["board"] == "native" and facts["version"] == wire.VERSION
    assert facts["max_body"] == 4096 and facts["window"] == 8 and "CONV_2D" in facts["ops"]
    assert len(facts["boot_id"]) == 16


def test_native_target_runs_a_model_and_caches_replies(native):
    data = shared_model("tflm/hello_world_int8.tflite").read_bytes()
    native.hello(5)
    client = TargetClient(native, 512)
    client.load(data)
    info = client.plan
    assert info["inputs"][0]["dims"] == [1, 1] and info["outputs"][0]["type"] == 9
    reply = native.request(wire.INVOKE, wire.pack_invoke(3, wire.INVOKE_PROFILE))
    ticks, per_op = wire.unpack_invoke_reply(reply)
    assert len(ticks) == 3 and len(per_op) == info["ops"]
    # The same request again: the cached bytes come back; nothing runs twice (ns timer would differ).
    again = wire.pack_invoke(3, wire.INVOKE_PROFILE)
    assert _exchange(native, wire.INVOKE, native.seq, again) == [
        (wire.INVOKE | wire.REPLY, native.session, native.seq, reply)]
    # The cache is keyed by the request's full identity: same session and seq, other bytes → NAK.
    other_body = _exchange(native, wire.INVOKE, native.seq, wire.pack_invoke(3))
    other_session = _exchange(native, wire.INVOKE, native.seq, again, session=native.session ^ 1)
    assert [(t, wire.unpack_nak(body)[:3]) for t, _, _, body in other_body + other_session] == [
        (wire.NAK, (wire.NAK_ORDER, native.session, native.seq)),
        (wire.NAK, (wire.NAK_ORDER, native.session ^ 1, native.seq))]
    # A seq ahead of the expected one: NAK with the expected seq, what it got and the boot id.
    (t, sess, s, body), = _exchange(native, wire.INVOKE, native.seq + 3, wire.pack_invoke(1))
    assert (t, sess, s) == (wire.NAK, native.session, native.seq + 1)
    assert wire.unpack_nak(body) == (wire.NAK_ORDER, native.session, native.seq + 3, native.boot_id)


def _exchange(link, msg_type: int, seq: int, body: bytes, session: int | None = None) -> list[tuple]:
    """Send one hand-made request frame; the (type, session, seq, body) of what comes back."""
    link.stream.write(wire.encode(msg_type, link.session if session is None else session, seq, body))
    frames = []
    for _ in range(100):
        frames += link.decoder.feed(link.stream.read(4096))
        if frames:
            break
    return [tuple(f)[:4] for f in frames]


def test_native_target_refuses_to_run_bytes_changed_after_load_end(native):
    """A LOAD_CHUNK after LOAD_END unloads the model: the engine never runs unchecked bytes
    (found by fuzz_link); the driver's LOAD_END re-send with another flag still works."""
    from harness.protocol.link import NotLoaded

    data = shared_model("tflm/hello_world_int8.tflite").read_bytes()
    native.hello(5)
    TargetClient(native, 512).load(data)
    native.request(wire.LOAD_END, wire.pack_load_end(wire.LOAD_PRESERVE_ALL, 0))
    native.request(wire.INVOKE, wire.pack_invoke(1))
    native.request(wire.LOAD_CHUNK, wire.pack_offset_data(0, b"\x7f" * 64))
    with pytest.raises(NotLoaded):
        native.request(wire.INVOKE, wire.pack_invoke(1))


def test_native_target_survives_hostile_frames(native):
    """Valid-CRC frames with lying lengths/offsets/indices, overlong and garbage frames."""
    native.hello(5)
    s = native.stream
    rng = random.Random(5)
    s.write(bytes(rng.randrange(1, 256) for _ in range(20000)) + b"\x00")  # longer than any buffer
    s.write(b"\x01" * 300 + b"\x00" + b"\x05\x00")  # bad COBS, empty frames
    def code(*reqs):
        with pytest.raises(HarnessError) as e:
            native.transact(list(reqs))
        return e.value.code

    assert code(Req(wire.LOAD_CHUNK, struct.pack("<I", 0) + b"x")) == wire.E_BAD_STATE  # before LOAD_BEGIN
    assert code(Req(wire.LOAD_BEGIN, struct.pack("<I", 1 << 30) + bytes(32))) == wire.E_TOO_LARGE
    assert code(Req(wire.LOAD_BEGIN, b"\x01")) == wire.E_BAD_REQUEST  # short body
    native.transact([Req(wire.LOAD_BEGIN, struct.pack("<I", 100) + bytes(32))])
    assert code(Req(wire.LOAD_CHUNK, struct.pack("<I", 0xFFFFFFF0) + b"abcdefghijklmnopqrstu")) == wire.E_BAD_REQUEST
    assert code(Req(wire.LOAD_CHUNK, struct.pack("<I", 90) + b"x" * 20)) == wire.E_BAD_REQUEST  # past the end
    assert code(Req(wire.LOAD_END, b"\x00" + struct.pack("<I", 0))) == wire.E_INCOMPLETE
    assert code(Req(wire.SET_INPUT, b"\x09" + struct.pack("<I", 0) + b"x")) == wire.E_NOT_LOADED
    assert code(Req(wire.GET_TENSOR, struct.pack("<HII", 65535, 0, 1 << 31))) == wire.E_NOT_LOADED
    assert code(Req(wire.SINK, b"")) == wire.E_BAD_REQUEST
    assert code(Req(0x55, b"??")) == wire.E_BAD_REQUEST
    data = shared_model("tflm/hello_world_int8.tflite").read_bytes()
    TargetClient(native, 700).load(data)
    assert code(Req(wire.SET_INPUT, b"\x09" + struct.pack("<I", 0) + b"x")) == wire.E_BAD_INPUT
    assert code(Req(wire.SET_INPUT, b"\x00" + struct.pack("<I", 0xFFFFFFFF) + b"xy")) == wire.E_BAD_INPUT
    assert code(Req(wire.GET_OUTPUT, struct.pack("<BII", 0, 2, 100))) == wire.E_BAD_INPUT
    assert code(Req(wire.GET_TENSOR, struct.pack("<HII", 65535, 0, 1 << 31))) == wire.E_BAD_INPUT
    assert code(Req(wire.TENSOR_INFO, struct.pack("<H", 999))) == wire.E_BAD_INPUT
    assert code(Req(wire.INVOKE, struct.pack("<HB", 65535, 1))) == wire.E_BAD_REQUEST
    assert code(Req(wire.INVOKE, struct.pack("<HB", 0, 0))) == wire.E_BAD_REQUEST
    # Still serving, and a load with a wrong sha256 is refused, not planned.
    native.transact([Req(wire.LOAD_BEGIN, wire.pack_load_begin(len(data), bytes(32))),
                     Req(wire.LOAD_CHUNK, wire.pack_offset_data(0, data))])
    with pytest.raises(LinkError, match="SHA_MISMATCH"):
        TargetClient(native).replan()
    # Model errors arrive as UnsupportedModel with the engine's text.
    client = TargetClient(native, 4000)
    client.upload(data)
    with pytest.raises(UnsupportedModel, match=r"arena too small: need \d+ bytes, have 64"):
        client.replan(arena_limit=64)
    assert native.hello(5)["board"] == "native"
