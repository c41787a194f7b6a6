"""Inputs are made batch by batch with the bytes the one-shot generator gave, and nothing a run keeps in
memory grows with RUNS: inputs, the journal scan, the merge (issue #11 item 6)."""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest

from harness.core import tensors
from harness.core.tensors import TensorSpec
from harness.results.files import write_npz_streamed
from harness.results.rundir import RunDir, Spans
from harness.run import inputs
from tests.common import MODELS, ROOT


def one_shot(specs, n: int, seed: int) -> list[np.ndarray]:
    """The generator as it was before batching (harness/run/inputs.py at 8333f49): every row of every input at once."""
    rng = np.random.default_rng(seed)
    arrays = []
    for s in specs:
        shape = (n, *s.sample_shape)
        if s.dtype == "float32":
            arrays.append(rng.uniform(-inputs.FLOAT_RANGE, inputs.FLOAT_RANGE, size=shape).astype(np.float32))
            continue
        lo, hi = tensors.INT_RANGES[s.dtype]
        arrays.append(rng.integers(lo, hi + 1, size=shape, dtype=np.int64).astype(s.dtype))
    return arrays


def _random_specs(r: random.Random) -> list[TensorSpec]:
    return [TensorSpec(f"in{k}", (1, *[r.randint(1, 5) for _ in range(r.randint(1, 3))]),
                       r.choice(["int8", "uint8", "int16", "float32"])) for k in range(r.randint(1, 4))]


@pytest.mark.parametrize("piece", [1 << 20, 7])  # 7: several numpy draws inside one batch
def test_every_row_range_has_the_one_shot_bytes(monkeypatch, piece):
    """Mixed int8/uint8/int16/float32 inputs (odd sizes move numpy's buffered 32-bit half), any slice."""
    monkeypatch.setattr(inputs, "_PIECE", piece)
    r = random.Random(piece)
    for _ in range(150):
        specs, n, seed = _random_specs(r), r.randint(1, 40), r.randint(0, 2**63)
        want = one_shot(specs, n, seed)
        got = inputs.random_inputs(specs, n, seed)
        for _ in range(4):
            a = r.randint(0, n)
            b = r.randint(a, n)
            for g, w in zip(got.take(a, b), want):
                assert g.dtype == w.dtype and np.array_equal(g, w[a:b]), (specs, n, seed, a, b)
        assert all(np.array_equal(g, w) for g, w in zip(got.arrays, want))


def test_the_projects_models_get_the_same_inputs_as_before():
    from harness.core import model as models

    for path in [MODELS / "digits_int8.tflite", *sorted((MODELS / "ops").glob("*.tflite"))]:
        specs = models.load(path)[1].inputs
        want = one_shot(specs, 200, 0)
        got = inputs.random_inputs(specs, 200, 0)
        for start in range(0, 200, 50):  # the default config's batches
            assert all(np.array_equal(g, w[start:start + 50]) for g, w in zip(got.take(start, start + 50), want))


def test_a_billion_rows_cost_one_batch():
    spec = TensorSpec("x", (1, 8, 8, 1), "int8")
    tracemalloc.start()
    try:
        s = inputs.random_inputs([spec], 10**9, 0)
        rows = s.take(10**9 - 1000, 10**9)[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows.shape == (1000, 8, 8, 1) and len(s) == 10**9
    assert peak < 10 * rows.nbytes + (256 << 10), peak  # the rows, and numpy's int64 draw of them
    chunk = next(iter(s.chunks()))
    assert (chunk[1] - chunk[0]) * 64 <= inputs.CHUNK_BYTES


def test_streamed_npz_is_what_savez_writes(tmp_path):
    pieces = [np.arange(i * 12, (i + 1) * 12, dtype=np.int16).reshape(3, 4) for i in range(5)]
    write_npz_streamed(tmp_path / "s.npz", [("a", 15, lambda: iter(pieces)),
                                            ("b", 2, lambda: iter([np.array([1.5, 2.5], np.float32)]))])
    np.savez(tmp_path / "r.npz", a=np.concatenate(pieces), b=np.array([1.5, 2.5], np.float32))
    s, r = np.load(tmp_path / "s.npz"), np.load(tmp_path / "r.npz")
    assert s.files == r.files and all(np.array_equal(s[k], r[k]) and s[k].dtype == r[k].dtype for k in r.files)


def test_streamed_npz_holds_one_piece_at_a_time(tmp_path):
    def pieces():
        for _ in range(200):
            yield np.ones((1000, 100), np.int8)  # 100 KB each, 20 MB in all

    tracemalloc.start()
    try:
        write_npz_streamed(tmp_path / "big.npz", [("x", 200_000, pieces)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak
    assert np.load(tmp_path / "big.npz")["x"].shape == (200_000, 100)


def test_journal_of_many_batches_is_a_few_ranges(tmp_path):
    rd = RunDir(tmp_path / "run").create()
    part = rd.part("m", 0)
    part.parent.mkdir(parents=True)
    lines = []
    for start in range(0, 20_000, 50):
        rd.part("m", start).write_bytes(b"")
        lines.append(json.dumps({"event": "batch", "model": "m", "start": start, "stop": start + 50}))
    lines.append('{"event": "batch", "model": "m", "sta')  # torn by a kill
    (rd.path / "journal.jsonl").write_text("\n".join(lines))
    done = rd.done_batches("m")
    assert isinstance(done, Spans) and done.starts == [0] and done.stops == [20_000]
    assert done.covers(100, 150) and not done.covers(19_990, 20_040)


@pytest.mark.long
def test_a_million_runs_on_host_firmware_stay_under_500_mb(tmp_path):
    """`--runs 1000000` with the digits CNN, its float twin and every host reference; peak RSS measured."""
    cfg = tmp_path / "m.yaml"
    cfg.write_text(f"batch: 1000\nmodels:\n  - path: {MODELS / 'digits_int8.tflite'}\n"
                   f"    float: {MODELS / 'digits_float.tflite'}\n")
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "harness", "--quiet", "bench", "--target", "host-firmware",
                        "--config", str(cfg), "--runs", "1000000", "--results", str(tmp_path / "res")],
                       cwd=ROOT, capture_output=True, text=True, timeout=4 * 3600)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"--runs 1000000 on host-firmware: peak RSS {peak_mb:.0f} MB in {time.monotonic() - t0:.0f} s")
    assert r.returncode == 0, r.stderr
    (rd,) = (tmp_path / "res").glob("host-firmware/*")
    assert np.load(rd / "outputs" / "digits_int8.npz")["outputs_0"].shape == (1_000_000, 10)
    assert peak_mb < 500, peak_mb
