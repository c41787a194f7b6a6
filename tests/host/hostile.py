"""Hostile models for the host side: single-byte corruptions of the project's own models, and a
bench run of one model in this process (so that a crash of any interpreter would kill the test)."""

from __future__ import annotations

import random
from pathlib import Path

from harness.errors import HarnessError
from harness.run import bench
from harness.ui import UI
from tests.common import MODELS
from tests.firmware.fbutil import structure_positions

TWIN = MODELS / "digits_float.tflite"
REFERENCES = ["tflm", "reference", "optimized", "float"]


def int8_models() -> list[Path]:
    return [MODELS / "digits_int8.tflite"] + sorted((MODELS / "ops").glob("*.tflite"))


def single_byte_corpus(n: int, seed: int) -> list[tuple[str, Path, bytes]]:
    """n (label, original, corrupted bytes): one byte XORed with a random non-zero value, 3 of 4
    on the flatbuffer's structure (offsets, vtables, shapes, quantisation, options), 1 of 4 anywhere
    (mostly weights). Round-robin over the int8 models and the digits float twin."""
    rng = random.Random(seed)
    paths = int8_models() + [TWIN]
    blobs = {p: p.read_bytes() for p in paths}
    structure = {p: structure_positions(b) for p, b in blobs.items()}
    out = []
    for k in range(n):
        p = paths[k % len(paths)]
        b = bytearray(blobs[p])
        pos = rng.choice(structure[p]) if k % 4 else rng.randrange(len(b))
        x = rng.randrange(1, 256)
        b[pos] ^= x
        out.append((f"{p.stem}[{pos}]^={x}", p, bytes(b)))
    return out


def bench_one(target: str, model: Path, twin: Path | None, work: Path, runs: int = 4) -> tuple[Path | None, str]:
    """One bench run in this process: (run directory or None, "" or the one-line error)."""
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "c.yaml"
    entry = f"  - path: {model}\n" + (f"    float: {twin}\n" if twin else "")
    cfg.write_text(f"runs: {runs}\nwarmup: 1\nbatch: {runs}\nreferences: {REFERENCES}\nmodels:\n{entry}")
    try:
        return bench.start(bench.Request(target=target, config=str(cfg), results=str(work / "results")),
                           UI(quiet=True)), ""
    except HarnessError as e:
        runs_made = list((work / "results").glob("*/*/run.json"))
        return (runs_made[0].parent if runs_made else None), str(e)
