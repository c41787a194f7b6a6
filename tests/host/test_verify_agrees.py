"""Our Python verifier (harness/core/verify.py) and the firmware's reader (firmware/core/model.c, run
through harness/runtimes/native.py) judge a corpus of corrupted models alike.

For each corrupted file:
- the firmware loads it (or refuses it only after its reader: planner, op preparation, arena)
  → the verifier accepts it;
- the firmware's reader calls it corrupt → the verifier refuses it with the same words;
- the firmware refuses it as unsupported or too big for a board, or by a rule of one op's kernel
  (outputs per node, inputs present) → either answer is right: the host runtimes may run it.
Two documented differences: the verifier also reads the file identifier and the subgraphs after
the first, which the firmware never reads.
"""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from harness.core.verify import verify
from harness.errors import ModelError
from harness.runtimes.native import EngineError, NativeEngine
from harness.runtimes.native_adapter import build_native
from tests.common import MODELS, SHARED
from tests.firmware.test_native_corruption import corruptions

# Corrupt-model texts the firmware writes after its reader (planner.c, prepare.c: "<OP> at node N: …").
AFTER_READER = re.compile(r"^([A-Z0-9_]+ at node \d+: |node \d+ reads tensor|graph input \d+ is a constant|"
                          r"node \d+ writes constant|tensor \d+ written twice|graph output \d+ is never written)")
# Reader texts that depend on the op's kernel: the firmware's rules, not the file format's.
KERNEL_RULES = re.compile(r"(node \d+ has \d+ outputs \(needs 1\)|node \d+ output missing|"
                          r"^[A-Z0-9_]+ at node \d+ has \d+ inputs$|^[A-Z0-9_]+ at node \d+: input \d+ missing$)")
PREFIX = "corrupt model: "


def _firmware(blob: bytes) -> tuple[str, str]:
    """("ok" | "reader" | "after" | "other", corrupt text)."""
    try:
        NativeEngine(blob, arena_bytes=4 << 20)
        return "ok", ""
    except EngineError as e:
        kind, text = e.kind, str(e)
    if kind != "corrupt":
        return "other", text
    text = text[len(PREFIX):] if text.startswith(PREFIX) else text
    if AFTER_READER.search(text):
        return "after", text
    return ("other" if KERNEL_RULES.search(text) else "reader"), text


def _verifier(blob: bytes) -> str:
    """"" when accepted, else the corrupt text."""
    try:
        verify(blob, "m")
        return ""
    except ModelError as e:
        return str(e).split(PREFIX, 1)[1].split("; the file is", 1)[0]


def _single_bytes(data: bytes, n: int, rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    for _ in range(n):
        b = bytearray(data)
        pos = rng.randrange(8, len(b))  # bytes 4..7 are the identifier, which only we read
        b[pos] ^= rng.randrange(1, 256)
        out.append((f"byte {pos}", bytes(b)))
    return out


def _corpus() -> list[tuple[str, bytes]]:
    rng = random.Random(19)
    cases = [(f"digits {name}", blob) for name, blob in corruptions((MODELS / "digits_int8.tflite").read_bytes())]
    for path in sorted(MODELS.glob("**/*.tflite")):
        cases += [(f"{path.stem} {n}", b) for n, b in _single_bytes(path.read_bytes(), 120, rng)]
    for path in sorted(SHARED.glob("*/*.tflite"))[:12]:
        cases += [(f"{path.stem} {n}", b) for n, b in _single_bytes(path.read_bytes(), 40, rng)]
    return [(name, b) for name, b in cases if len(b) < 8 or b[4:8] == b"TFL3"]


def test_verifier_and_firmware_reader_agree():
    build_native()
    seen: Counter = Counter()
    wrong = []
    for name, blob in _corpus():
        kind, fw = _firmware(blob)
        py = _verifier(blob)
        seen[kind, bool(py)] += 1
        if kind in ("ok", "after") and py and not py.startswith("subgraph "):
            wrong.append(f"{name}: firmware {kind} ({fw!r}), verifier refuses: {py!r}")
        elif kind == "reader" and py != fw:
            wrong.append(f"{name}: firmware says {fw!r}, verifier says {py!r}")
    print(f"{sum(seen.values())} corrupted files: " + ", ".join(
        f"firmware {k} / verifier {'refuses' if refused else 'accepts'}: {n}" for (k, refused), n in sorted(seen.items())))
    assert not wrong, f"{len(wrong)} disagreements, e.g.\n" + "\n".join(wrong[:10])
    assert seen["reader", True] >= 500 and seen["ok", False] >= 500, seen  # both outcomes well covered


@pytest.mark.parametrize("path", sorted(MODELS.glob("**/*.tflite")) + sorted(SHARED.glob("*/*.tflite")),
                         ids=lambda p: p.stem)
def test_every_real_model_passes(path):
    verify(path.read_bytes(), str(path))


def test_issue_19_repro_is_refused_in_the_firmwares_words():
    import struct

    b = bytearray((MODELS / "digits_int8.tflite").read_bytes())
    struct.pack_into("<I", b, 896, 0x7FFF0000)
    with pytest.raises(ModelError, match=r"^x.tflite: corrupt model: tensor 5 buffer data out of bounds;"):
        verify(bytes(b), "x.tflite")
    assert _firmware(bytes(b)) == ("reader", "tensor 5 buffer data out of bounds")


def _fc16(misalign: bool) -> bytes:
    """16x8 [1,16] -> FULLY_CONNECTED 8 -> FULLY_CONNECTED 4 with int64 biases; misalign: the first
    bias's data at 4 mod 16, where TensorFlow 2.21's converter leaves a 16x8 model's int64 biases."""
    import numpy as np

    from tools.tflite_build import ModelBuilder

    m, rng = ModelBuilder(misalign={2} if misalign else set()), np.random.default_rng(7)
    x = m.tensor((1, 16), np.int16, 0.01, 0)
    h, y = m.tensor((1, 8), np.int16, 0.08, 0), m.tensor((1, 4), np.int16, 0.3, 0)
    for inp, out, k, n in ((x, h, 16, 8), (h, y, 8, 4)):
        w = m.tensor((n, k), np.int8, 0.02, 0, rng.integers(-127, 128, (n, k)))
        b = m.tensor((n,), np.int64, float(np.float32(0.0002)), 0, rng.integers(-3000, 3000, n))
        m.op("FULLY_CONNECTED", [inp, w, b], [out], {0: ("u8", 0)})
    m.inputs, m.outputs = [x], [y]
    return m.build()


def test_int64_at_4_mod_8_accepted_by_both_and_exact():
    """The firmware reads int64 data 4-byte aligned (memcpy); the verifier said 8 and refused the 16x8
    models TensorFlow 2.21 writes. Both accept it now, and its outputs are TFLM's."""
    import numpy as np

    from tests.firmware.opgen import tflm_run

    build_native()
    data = _fc16(misalign=True)
    assert data != _fc16(misalign=False)
    assert _firmware(data) == ("ok", "") and _verifier(data) == ""
    xs = np.random.default_rng(1).integers(-32768, 32768, (500, 1, 16), dtype=np.int16)
    xs[:2] = [[[-32768] * 16], [[32767] * 16]]
    eng = NativeEngine(data, arena_bytes=1 << 20)
    ref = tflm_run(data, [[x] for x in xs])
    for x, r in zip(xs, ref):
        assert np.array_equal(eng.run(x)[0], r[0])
