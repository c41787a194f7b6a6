"""Hostile models: >= 500 deterministic corruptions of a real .tflite (truncations, bit flips,
overwritten offsets/lengths/vtable entries, garbage runs) fed to the engine built with
AddressSanitizer + UndefinedBehaviorSanitizer (firmware/tools/hbload, SAN=1). Each one must
answer OK or ERROR on its own line; a sanitizer report, a signal or a missing answer fails."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest

from tests.firmware.fbutil import structure_positions
from tests.firmware.fwbuild import PROJECT_MODELS, SHARED_MODELS, san_build  # noqa: F401 (fixture)

BATCH = 40
SPECIAL_U32 = [0, 1, 3, 4, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFC, 0x10000, 0xFFFF]


def _base_model() -> Path:
    for p in (PROJECT_MODELS / "digits_int8.tflite", SHARED_MODELS / "tflm" / "hello_world_int8.tflite",
              SHARED_MODELS / "mlperf_tiny" / "kws_ref_model.tflite"):
        if p.exists():
            return p
    pytest.skip("no int8 model in models/ or ../shared/models to corrupt")


def corruptions(data: bytes, seed: int = 0) -> list[tuple[str, bytes]]:
    """Deterministic list of (name, corrupted bytes); most aimed at the flatbuffer structure."""
    rng = random.Random(seed)
    n = len(data)
    struct_pos = structure_positions(data)
    out: list[tuple[str, bytes]] = []
    for k in range(110):  # truncations: the first bytes densely, then spread over the file
        cut = k if k < 40 else rng.randrange(40, n)
        out.append((f"truncate-{cut}", data[:cut]))
    for k in range(160):  # single bit flips, 3 in 4 on structure
        pos = rng.choice(struct_pos) if k % 4 else rng.randrange(n)
        b = bytearray(data)
        b[pos] ^= 1 << rng.randrange(8)
        out.append((f"bitflip-{pos}", bytes(b)))
    for k in range(160):  # 32-bit overwrites: offsets, lengths, indices, dims
        pos = rng.choice(struct_pos) & ~3
        val = rng.choice(SPECIAL_U32 + [n, n - 4, n + 4, rng.randrange(1 << 32), rng.randrange(256)])
        b = bytearray(data)
        b[pos:pos + 4] = (val & 0xFFFFFFFF).to_bytes(4, "little")
        out.append((f"u32-{pos}-{val:#x}", bytes(b[:n])))
    for k in range(80):  # 16-bit overwrites: vtable sizes and field offsets
        pos = rng.choice(struct_pos) & ~1
        val = rng.choice([0, 2, 4, 0xFFFF, 0x8000, rng.randrange(1 << 16)])
        b = bytearray(data)
        b[pos:pos + 2] = val.to_bytes(2, "little")
        out.append((f"u16-{pos}-{val:#x}", bytes(b[:n])))
    for k in range(40):  # runs of garbage
        pos = rng.choice(struct_pos)
        ln = rng.randrange(1, 64)
        b = bytearray(data)
        b[pos:pos + ln] = bytes(rng.randrange(256) for _ in range(ln))
        out.append((f"garbage-{pos}-{ln}", bytes(b[:n])))
    out.append(("empty", b""))
    out.append(("zeros", bytes(n)))
    out.append(("ones", b"\xff" * n))
    return out


def _run(hbload: Path, files: list[Path], preserve: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=99",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=98"}
    args = [str(hbload), "--arena", str(1 << 20)] + (["--preserve"] if preserve else []) + [str(f) for f in files]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)


def _answers(r: subprocess.CompletedProcess) -> list[str]:
    return [line for line in r.stdout.splitlines() if line]


def test_corrupted_models_never_crash(san_build, tmp_path):
    data = _base_model().read_bytes()
    cases = corruptions(data)
    assert len(cases) >= 500
    files = []
    for i, (name, blob) in enumerate(cases):
        f = tmp_path / f"{i:04d}-{name}.tflite"
        f.write_bytes(blob)
        files.append(f)
    hbload = san_build / "hbload"
    outcomes = {"OK": 0, "ERROR": 0}
    for start in range(0, len(files), BATCH):
        batch = files[start:start + BATCH]
        r = _run(hbload, batch, preserve=(start // BATCH) % 2 == 1)
        answers = _answers(r)
        if r.returncode != 0 or len(answers) != len(batch):
            bad = batch[len(answers)] if len(answers) < len(batch) else batch[-1]
            pytest.fail(f"engine crashed on {bad.name} (exit {r.returncode}):\n{r.stderr[-4000:]}")
        for f, line in zip(batch, answers):
            kind = line.split(" ", 1)[0]
            assert kind in outcomes, f"{f.name}: unexpected answer {line!r}"
            if kind == "ERROR":
                assert len(line.split(" ", 2)) == 3 and line.split(" ", 2)[2].strip(), f"{f.name}: empty error text"
            outcomes[kind] += 1
    # Both outcomes must occur: flips in weights still load, broken structure is refused.
    assert outcomes["ERROR"] >= 100 and outcomes["OK"] >= 20, outcomes


def test_corruption_errors_name_a_field(san_build, tmp_path):
    """Truncated files are refused as corrupt, with a text that says what is out of bounds."""
    data = _base_model().read_bytes()
    f = tmp_path / "half.tflite"
    f.write_bytes(data[: len(data) // 2])
    r = _run(san_build / "hbload", [f], preserve=False)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("ERROR 1 corrupt model: "), r.stdout


def _project_op_models() -> list[Path]:
    return sorted(PROJECT_MODELS.glob("ops/*.tflite"))


def _check_batch(hbload: Path, files: list[Path], preserve: bool) -> list[str]:
    r = _run(hbload, files, preserve)
    answers = _answers(r)
    if r.returncode != 0 or len(answers) != len(files):
        bad = files[len(answers)] if len(answers) < len(files) else files[-1]
        pytest.fail(f"engine crashed on {bad.name} (exit {r.returncode}):\n{r.stderr[-4000:]}")
    for f, line in zip(files, answers):
        assert line.split(" ", 1)[0] in ("OK", "ERROR"), f"{f.name}: unexpected answer {line!r}"
    return answers


@pytest.mark.parametrize("path", _project_op_models(), ids=lambda p: p.stem)
def test_corrupted_op_models_never_crash(san_build, tmp_path, path):
    """Every op's prepare sees hostile options, shapes and quantisation: a quarter of the cases per op model."""
    cases = corruptions(path.read_bytes(), seed=len(path.name))[::4]
    files = []
    for i, (name, blob) in enumerate(cases):
        f = tmp_path / f"{i:04d}-{name}.tflite"
        f.write_bytes(blob)
        files.append(f)
    for start in range(0, len(files), BATCH * 4):
        _check_batch(san_build / "hbload", files[start:start + BATCH * 4], preserve=start % 2 == 1)


def test_every_structure_byte_overwritten(san_build, tmp_path):
    """Exhaustive on the smallest op model: each non-weight byte set to 0x00 and to 0xFF."""
    path = PROJECT_MODELS / "ops" / "add.tflite"
    if not path.exists():
        path = SHARED_MODELS / "tflm" / "simple_add_model.tflite"
    if not path.exists():
        pytest.skip("no small model to corrupt exhaustively")
    data = path.read_bytes()
    files = []
    for pos in structure_positions(data):
        for val in (0x00, 0xFF):
            if data[pos] == val:
                continue
            b = bytearray(data)
            b[pos] = val
            f = tmp_path / f"{pos:05d}-{val:02x}.tflite"
            f.write_bytes(bytes(b))
            files.append(f)
    assert len(files) > 500
    for start in range(0, len(files), 400):
        _check_batch(san_build / "hbload", files[start:start + 400], preserve=False)


def test_valid_models_run_clean_under_sanitizers(san_build, tmp_path):
    """Every real model (and every op-matrix case) loads, runs and reads back with no sanitizer report."""
    import numpy as np

    from tests.firmware.test_native_ops_matrix import CASES

    files = sorted(SHARED_MODELS.glob("*/*int8*.tflite")) + sorted(SHARED_MODELS.glob("mlperf_tiny/kws_ref_model.tflite"))
    files += sorted(SHARED_MODELS.glob("mlperf_tiny/pretrainedResnet_quant.tflite"))
    files += sorted(SHARED_MODELS.glob("tflm/simple_add_model.tflite")) + _project_op_models()
    files += sorted(PROJECT_MODELS.glob("*int8*.tflite"))
    for name, make in sorted(CASES.items()):
        f = tmp_path / f"{name}.tflite"
        f.write_bytes(make(np.random.default_rng(sum(map(ord, name)))).build())
        files.append(f)
    for preserve in (False, True):
        answers = _check_batch(san_build / "hbload", files, preserve)
        assert all(a.startswith("OK ") for a in answers), [f"{f.name}: {a}" for f, a in zip(files, answers)
                                                           if not a.startswith("OK ")]
