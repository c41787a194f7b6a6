"""Facts the firmware's C headers and the host's Python both state, proved equal: the C side can
not import the Python tables, so each fact is written once per language and this test ties them
(error codes, message types, protocol version, NAK reasons, HELLO flags, tensor type numbers)."""

from __future__ import annotations

import re
from pathlib import Path

from harness.core.tflite import TENSOR_TYPES
from harness.protocol import wire
from harness.runtimes.native import MAX_DIMS, EngineError

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"


def c_enums(header: Path) -> dict[str, int]:
    """Every `enum { A = 1, B, … }` constant and `#define NAME <integer>` of a C header."""
    text = re.sub(r"/\*.*?\*/", "", header.read_text(), flags=re.S)
    out: dict[str, int] = {}
    for body in re.findall(r"enum\s*\{(.*?)\}", text, flags=re.S):
        nxt = 0
        for item in filter(None, (i.strip() for i in body.split(","))):
            name, _, value = (p.strip() for p in item.partition("="))
            nxt = int(value, 0) if value else nxt
            out[name] = nxt
            nxt += 1
    out.update((n, int(v, 0)) for n, v in re.findall(r"#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)\b", text))
    return out


ENGINE = c_enums(FIRMWARE / "core" / "engine.h")
COMMANDS = c_enums(FIRMWARE / "serve" / "commands.h")


def test_error_codes_are_the_firmwares():
    engine = {k[len("HB_E_"):]: v for k, v in ENGINE.items() if k.startswith("HB_E_")}
    serve = {k[len("E_"):]: v for k, v in COMMANDS.items() if k.startswith("E_")}
    assert engine and serve
    for name, code in {**engine, **serve}.items():
        assert getattr(wire, f"E_{name}") == code and wire.ERROR_NAMES[code] == name, name
    # Every wire code but the agent's own (RUNTIME: a Linux board's interpreter failed) is the firmware's.
    assert set(wire.ERROR_NAMES) - {wire.E_RUNTIME} == set(engine.values()) | set(serve.values())
    assert {EngineError(c, "").kind for c in engine.values()} == {n.lower() for n in engine}


def test_message_types_version_and_flags_are_the_firmwares():
    for name, value in COMMANDS.items():
        if name.startswith("M_"):
            assert getattr(wire, name[2:]) == value, name
    assert COMMANDS["HB_PROTOCOL_VERSION"] == wire.VERSION
    assert (COMMANDS["NAK_ORDER"], COMMANDS["NAK_DAMAGED"]) == (wire.NAK_ORDER, wire.NAK_DAMAGED)
    assert COMMANDS["HELLO_BRIEF"] == wire.HELLO_BRIEF
    assert set(wire.NAMES) == {v for k, v in COMMANDS.items() if k.startswith("M_") and k != "M_REPLY"}


def test_tensor_types_are_the_schemas():
    types = {k[len("HB_"):].lower(): v for k, v in ENGINE.items()
             if k.startswith("HB_") and k[3:].lower() in TENSOR_TYPES.values()}
    assert types and all(TENSOR_TYPES[code] == name for name, code in types.items())
    assert ENGINE["HB_MAX_DIMS"] == MAX_DIMS  # the ctypes tensor info's dims array
